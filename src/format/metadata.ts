/**
 * The `sops` metadata block: typed view over the metadata tree a store produced, and the
 * functions that write changes back into that tree without touching fields we do not change
 * (PGP, GCP, Azure, Vault stanzas and unknown fields are carried along verbatim).
 *
 * New blocks are laid out as SOPS 3.13 writes them: keys sorted alphabetically at every level.
 */
import { MetadataError } from '../errors.js';
import { compileGoRegex, CRYPT_RULE_FIELDS, cryptRuleFrom, type CryptRule } from './selectors.js';
import { get, getEntry, map, scalar, scalarText, str, type MapNode, type Node } from './tree.js';

/** The SOPS release whose on-disk layout we write (must be semver: sops compares it). */
export const SOPS_FORMAT_VERSION = '3.13.2';

/** One age stanza: the data key (or Shamir share) wrapped for one recipient. */
export interface AgeStanza {
  recipient: string;
  /** ASCII-armored age file, with its trailing newline. */
  enc: string;
}

/** One AWS KMS stanza, as SOPS writes it. */
export interface KmsStanza {
  arn: string;
  role?: string;
  context?: Record<string, string>;
  createdAt: string;
  enc: string;
  awsProfile: string;
}

/** One PGP stanza (`fp` = key fingerprint, `enc` = armored PGP MESSAGE of the data key). */
export interface PgpStanza {
  fp: string;
  createdAt: string;
  enc: string;
}

/** The stanzas of one key group, as they are written (the data key or one Shamir share wrapped per key). */
export interface WrappedGroup {
  age: AgeStanza[];
  kms: KmsStanza[];
  pgp: PgpStanza[];
}

/** A key group: every master key in it wraps the same data key (or the same Shamir share). */
export interface KeyGroup extends WrappedGroup {
  /** Stanza lists of key types this version does not use (gcp_kms, azure_kv, …), kept verbatim. */
  other: { type: string; count: number }[];
}

/** Typed view of a file's `sops` block. */
export interface SopsMetadata {
  /** Flat keys form one group; `key_groups` may form several. */
  keyGroups: KeyGroup[];
  /** True when the file lists keys under `key_groups` rather than flat. */
  usesKeyGroups: boolean;
  shamirThreshold: number | undefined;
  lastmodified: string;
  /** The encrypted MAC (`ENC[…,type:str]`), or '' if absent. */
  mac: string;
  /** The rule stored in the file, or undefined (SOPS then assumes `_unencrypted` suffix). */
  rule: CryptRule | undefined;
  macOnlyEncrypted: boolean;
  version: string;
}

const KEY_TYPE_FIELDS = ['age', 'kms', 'pgp', 'gcp_kms', 'azure_kv', 'hc_vault', 'hckms'] as const;

function scalarString(node: Node | undefined, field: string): string | undefined {
  if (node === undefined) return undefined;
  if (node.kind !== 'scalar') throw new MetadataError(`sops.${field} must be a scalar`);
  return scalarText(node.value);
}

function listOfMaps(node: Node | undefined, field: string): MapNode[] {
  if (node === undefined) return [];
  if (node.kind === 'scalar' && node.value.type === 'null') return [];
  if (node.kind !== 'seq') throw new MetadataError(`sops.${field} must be a list`);
  const out: MapNode[] = [];
  for (const item of node.items) {
    if (item.kind === 'comment') continue;
    if (item.kind !== 'map') throw new MetadataError(`sops.${field} entries must be maps`);
    out.push(item);
  }
  return out;
}

function parseAge(m: MapNode, field: string): AgeStanza {
  const recipient = scalarString(get(m, 'recipient'), `${field}.recipient`);
  const enc = scalarString(get(m, 'enc'), `${field}.enc`);
  if (recipient === undefined || enc === undefined)
    throw new MetadataError(`sops.${field} entry needs recipient and enc`);
  return { recipient, enc };
}

function parseKms(m: MapNode, field: string): KmsStanza {
  const arn = scalarString(get(m, 'arn'), `${field}.arn`);
  const enc = scalarString(get(m, 'enc'), `${field}.enc`);
  if (arn === undefined || enc === undefined) throw new MetadataError(`sops.${field} entry needs arn and enc`);
  const stanza: KmsStanza = {
    arn,
    enc,
    createdAt: createdAt(m, field),
    awsProfile: scalarString(get(m, 'aws_profile'), `${field}.aws_profile`) ?? '',
  };
  const role = scalarString(get(m, 'role'), `${field}.role`);
  if (role !== undefined && role !== '') stanza.role = role;
  const ctx = get(m, 'context');
  if (ctx !== undefined && ctx.kind === 'map') {
    stanza.context = {};
    for (const item of ctx.items)
      if (item.kind === 'entry') stanza.context[item.key] = scalarString(item.value, `${field}.context`) ?? '';
  }
  return stanza;
}

function parsePgp(m: MapNode, field: string): PgpStanza {
  const fp = scalarString(get(m, 'fp'), `${field}.fp`);
  const enc = scalarString(get(m, 'enc'), `${field}.enc`);
  if (fp === undefined || enc === undefined) throw new MetadataError(`sops.${field} entry needs fp and enc`);
  return { fp, enc, createdAt: createdAt(m, field) };
}

/** sops parses every `created_at` with Go's RFC 3339 parser and refuses the file otherwise. */
function createdAt(m: MapNode, field: string): string {
  const text = scalarString(get(m, 'created_at'), `${field}.created_at`) ?? '';
  if (goRfc3339(text) === undefined) throw new MetadataError(`sops.${field}.created_at is not an RFC 3339 timestamp`);
  return text;
}

function parseGroup(m: MapNode, prefix: string): KeyGroup {
  const group: KeyGroup = { age: [], kms: [], pgp: [], other: [] };
  for (const type of KEY_TYPE_FIELDS) {
    const entries = listOfMaps(get(m, type), `${prefix}${type}`);
    if (type === 'age') group.age = entries.map((e) => parseAge(e, `${prefix}age`));
    else if (type === 'kms') group.kms = entries.map((e) => parseKms(e, `${prefix}kms`));
    else if (type === 'pgp') group.pgp = entries.map((e) => parsePgp(e, `${prefix}pgp`));
    else if (entries.length > 0) group.other.push({ type, count: entries.length });
  }
  return group;
}

/** Number of master keys in a group. */
export function groupSize(g: WrappedGroup & { other?: { count: number }[] }): number {
  return g.age.length + g.kms.length + g.pgp.length + (g.other ?? []).reduce((n, o) => n + o.count, 0);
}

/**
 * Reads the typed view of a metadata tree.
 * @throws MetadataError when a field has the wrong shape or more than one encryption rule is set.
 */
export function parseMetadata(node: MapNode): SopsMetadata {
  const groupsNode = get(node, 'key_groups');
  const flat = parseGroup(node, '');
  const hasFlat = groupSize(flat) > 0;
  // SOPS's reader rule: flat keys win; otherwise key_groups.
  let keyGroups: KeyGroup[] = [flat];
  let usesKeyGroups = false;
  if (!hasFlat && groupsNode !== undefined) {
    keyGroups = listOfMaps(groupsNode, 'key_groups').map((g, i) => parseGroup(g, `key_groups[${i}].`));
    usesKeyGroups = true;
  }
  const fields: Partial<Record<string, string>> = {};
  for (const f of CRYPT_RULE_FIELDS) fields[f] = scalarString(get(node, f), f);
  let rule: CryptRule | undefined;
  try {
    rule = cryptRuleFrom(fields);
  } catch {
    throw new MetadataError('the sops block sets more than one encryption rule (suffix/regex fields)');
  }
  const macOnly = get(node, 'mac_only_encrypted');
  const lastmodified = scalarString(get(node, 'lastmodified'), 'lastmodified') ?? '';
  if (goRfc3339(lastmodified) === undefined)
    throw new MetadataError('sops.lastmodified is not an RFC 3339 timestamp', {
      hint: 'sops writes it as "2006-01-02T15:04:05Z"',
    });
  const version = scalarString(get(node, 'version'), 'version') ?? '';
  if (!isSopsVersion(version))
    throw new MetadataError('sops.version is not a semantic version (MAJOR.MINOR.PATCH)', {
      hint: 'sops compares it with its own version and refuses the file otherwise',
    });
  return {
    keyGroups,
    usesKeyGroups,
    shamirThreshold: shamirThreshold(get(node, 'shamir_threshold'), keyGroups.length),
    lastmodified,
    mac: scalarString(get(node, 'mac'), 'mac') ?? '',
    rule,
    macOnlyEncrypted: macOnly?.kind === 'scalar' && macOnly.value.type === 'bool' && macOnly.value.value,
    version,
  };
}

/**
 * `shamir_threshold` as sops reads it: an integer (YAML/JSON number, or digits in the flat
 * stores), 0 meaning unset. With several groups it must lie in 2..groups — sops cannot split
 * with less than 2 and cannot recover with more groups than there are; with one group sops
 * ignores it.
 */
function shamirThreshold(node: Node | undefined, groups: number): number | undefined {
  if (node === undefined || (node.kind === 'scalar' && node.value.type === 'null')) return undefined;
  let value: bigint | undefined;
  if (node.kind === 'scalar' && node.value.type === 'int') value = node.value.value;
  else if (node.kind === 'scalar' && node.value.type === 'str' && /^[+-]?\d{1,18}$/.test(node.value.value))
    value = BigInt(node.value.value);
  if (value === undefined) throw new MetadataError('sops.shamir_threshold must be a whole number');
  if (value === 0n || groups < 2) return undefined;
  const problem = shamirThresholdProblem(value, groups);
  if (problem !== undefined) throw new MetadataError(`sops.shamir_threshold ${problem}`);
  return Number(value);
}

/**
 * Why `threshold` of `groups` key groups cannot protect a data key, or undefined: more than the
 * groups could never recover it, and sops cannot split a key for fewer than 2 (`shamir.Split`
 * refuses it). 0 means unset, and one group needs no split. The message follows the field name.
 */
export function shamirThresholdProblem(threshold: number | bigint, groups: number): string | undefined {
  const t = BigInt(threshold);
  if (t > BigInt(groups)) return `is ${t} but there are only ${groups} key groups`;
  if (t === 0n || groups < 2 || t >= 2n) return undefined;
  return `is ${t} but must be at least 2 with ${groups} key groups`;
}

/**
 * sops's version check (`version.AIsNewerThanB`): `1.…` is taken as is (sops 1 predates
 * semver); otherwise, after one optional `v`, a strict semantic version.
 */
function isSopsVersion(version: string): boolean {
  return version.startsWith('1.') || SEMVER.test(version);
}

const SEMVER_ID = '(?:0|[1-9]\\d*|\\d*[A-Za-z-][0-9A-Za-z-]*)';
// The version text comes from the file: match it in linear time too.
const SEMVER = compileGoRegex(
  `^v?(?:0|[1-9]\\d*)\\.(?:0|[1-9]\\d*)\\.(?:0|[1-9]\\d*)(?:-${SEMVER_ID}(?:\\.${SEMVER_ID})*)?(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?$`,
);

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:[.,]\d+)?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * Go's `time.Parse(time.RFC3339, text)`, which sops applies to `lastmodified` and `created_at`:
 * returns the text Go's `Format(time.RFC3339)` gives back for it (fractions dropped, a one-digit
 * hour padded, a zero offset written `Z`), or undefined when Go refuses it.
 */
export function goRfc3339(text: string): string | undefined {
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, sec, sign, oh, om] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string?,
    string?,
    string?,
  ];
  const year = Number(y);
  const month = Number(mo);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (days === undefined || Number(d) < 1 || Number(d) > days || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59)
    return undefined;
  // Go accepts offsets up to 24:60 ("some people do write offsets of 24 hours").
  if (sign !== undefined && (Number(oh) > 24 || Number(om) > 60)) return undefined;
  const zero = sign === undefined || (Number(oh) === 0 && Number(om) === 0);
  return `${y}-${mo}-${d}T${h.padStart(2, '0')}:${mi}:${sec}${zero ? 'Z' : `${sign}${oh}:${om}`}`;
}

/** All recipients/ARNs named in the metadata, for messages and `status`. */
export function masterKeyNames(meta: SopsMetadata): string[] {
  const names: string[] = [];
  for (const g of meta.keyGroups) {
    for (const a of g.age) names.push(a.recipient);
    for (const k of g.kms) names.push(k.arn);
    for (const p of g.pgp) names.push(`pgp:${p.fp}`);
    for (const o of g.other) names.push(`${o.count} ${o.type} key(s)`);
  }
  return names;
}

/**
 * Sets a top-level scalar field of the metadata tree in place, keeping its node (and so its
 * position and quoting) when it exists; a new field is inserted in alphabetical position.
 */
export function setMetadataField(node: MapNode, field: string, value: string | boolean | number): void {
  const sv =
    typeof value === 'string'
      ? { type: 'str' as const, value }
      : typeof value === 'boolean'
        ? { type: 'bool' as const, value }
        : { type: 'int' as const, value: BigInt(value) };
  const entry = getEntry(node, field);
  if (entry !== undefined && entry.value.kind === 'scalar') {
    entry.value.value = sv;
    return;
  }
  const newEntry = { kind: 'entry' as const, key: field, value: scalar(sv, styleFor(field)) };
  if (entry !== undefined) {
    entry.value = newEntry.value;
    return;
  }
  insertSorted(node, newEntry);
}

/** Removes a top-level field from the metadata tree. */
export function deleteMetadataField(node: MapNode, field: string): void {
  node.items = node.items.filter((i) => !(i.kind === 'entry' && i.key === field));
}

function styleFor(field: string): 'double' | undefined {
  return field === 'lastmodified' || field === 'created_at' ? 'double' : undefined;
}

function insertSorted(node: MapNode, entry: { kind: 'entry'; key: string; value: Node }): void {
  const idx = node.items.findIndex((i) => i.kind === 'entry' && i.key > entry.key);
  if (idx === -1) node.items.push(entry);
  else node.items.splice(idx, 0, entry);
}

/** Tree for one age stanza, in 3.13 order (`enc` before `recipient`). */
export function ageStanzaNode(s: AgeStanza): MapNode {
  return map([
    ['enc', str(s.enc, 'literal')],
    ['recipient', str(s.recipient)],
  ]);
}

/** Tree for one KMS stanza, in 3.13 order. */
export function kmsStanzaNode(s: KmsStanza): MapNode {
  const entries: [string, Node][] = [
    ['arn', str(s.arn)],
    ['aws_profile', str(s.awsProfile, 'double')],
  ];
  if (s.context !== undefined && Object.keys(s.context).length > 0) {
    entries.push([
      'context',
      map(
        Object.keys(s.context)
          .sort()
          .map((k) => [k, str(s.context![k]!)]),
      ),
    ]);
  }
  entries.push(['created_at', str(s.createdAt, 'double')], ['enc', str(s.enc)]);
  if (s.role !== undefined) entries.push(['role', str(s.role)]);
  return map(entries);
}

/** Tree for one PGP stanza, in 3.13 order. */
export function pgpStanzaNode(s: PgpStanza): MapNode {
  return map([
    ['created_at', str(s.createdAt, 'double')],
    ['enc', str(s.enc, 'literal')],
    ['fp', str(s.fp)],
  ]);
}

export interface NewMetadata {
  groups: WrappedGroup[];
  shamirThreshold?: number;
  lastmodified: string;
  mac: string;
  rule: CryptRule;
  macOnlyEncrypted: boolean;
  version?: string;
}

function groupEntries(g: WrappedGroup): [string, Node][] {
  const entries: [string, Node][] = [];
  if (g.age.length > 0) entries.push(['age', { kind: 'seq', items: g.age.map(ageStanzaNode) }]);
  if (g.kms.length > 0) entries.push(['kms', { kind: 'seq', items: g.kms.map(kmsStanzaNode) }]);
  if (g.pgp.length > 0) entries.push(['pgp', { kind: 'seq', items: g.pgp.map(pgpStanzaNode) }]);
  return entries;
}

const STANZA_FIELDS = ['age', 'kms', 'pgp'] as const;

/**
 * Replaces the key stanzas of an existing metadata tree (updatekeys, rotate), keeping every
 * other field, and the stanza lists of key types this version does not manage when the file
 * has a single group. One group is written flat; several as `key_groups` + `shamir_threshold`.
 */
export function replaceKeyGroups(node: MapNode, groups: WrappedGroup[], shamirThreshold: number | undefined): void {
  const removeStanzas = (m: MapNode) => {
    for (const f of STANZA_FIELDS) deleteMetadataField(m, f);
  };
  if (groups.length === 1) {
    deleteMetadataField(node, 'key_groups');
    deleteMetadataField(node, 'shamir_threshold');
    removeStanzas(node);
    for (const [key, value] of groupEntries(groups[0]!)) insertSorted(node, { kind: 'entry', key, value });
    return;
  }
  removeStanzas(node);
  const groupsNode: Node = { kind: 'seq', items: groups.map((g) => map(groupEntries(g))) };
  const existing = getEntry(node, 'key_groups');
  if (existing !== undefined) existing.value = groupsNode;
  else insertSorted(node, { kind: 'entry', key: 'key_groups', value: groupsNode });
  setMetadataField(node, 'shamir_threshold', shamirThreshold ?? groups.length);
}

/** A fresh metadata tree, laid out as SOPS 3.13 writes it (alphabetical keys). */
export function buildMetadata(m: NewMetadata): MapNode {
  const entries: [string, Node][] = [];
  if (m.groups.length === 1) entries.push(...groupEntries(m.groups[0]!));
  else entries.push(['key_groups', { kind: 'seq', items: m.groups.map((g) => map(groupEntries(g))) }]);
  entries.push(['lastmodified', str(m.lastmodified, 'double')], ['mac', str(m.mac)]);
  if (m.macOnlyEncrypted) entries.push(['mac_only_encrypted', scalar({ type: 'bool', value: true })]);
  if (m.groups.length > 1)
    entries.push(['shamir_threshold', scalar({ type: 'int', value: BigInt(m.shamirThreshold ?? m.groups.length) })]);
  entries.push([m.rule.field, str(m.rule.value)]);
  entries.push(['version', str(m.version ?? SOPS_FORMAT_VERSION)]);
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return map(entries);
}

/** `lastmodified` as SOPS writes it: RFC 3339, UTC, seconds, `Z`. */
export function formatLastModified(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * SOPS re-formats `lastmodified` with Go's RFC3339 before using it as the MAC's AAD, so a file
 * whose timestamp carries fractions, a one-digit hour or a `+00:00` offset authenticates
 * against the normalised form.
 * @throws MetadataError when Go would not parse the timestamp.
 */
export function macAad(lastmodified: string): string {
  const canonical = goRfc3339(lastmodified);
  if (canonical === undefined) throw new MetadataError('sops.lastmodified is not an RFC 3339 timestamp');
  return canonical;
}
