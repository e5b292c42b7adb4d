/**
 * Adding and removing recipients of an environment in `.sealant.yaml`.
 *
 * Edits go through the YAML store, which rewrites only the bytes of what changed (a new list
 * item in the list's own indentation or flow style, a removed item's own lines), so comments,
 * quoting and key order everywhere else stay byte-for-byte as the user wrote them.
 */
import { ConfigError, UsageError } from '../errors.js';
import {
  get,
  map,
  seq,
  str,
  type CommentNode,
  type MapEntry,
  type MapNode,
  type Node,
  type SeqNode,
} from '../format/tree.js';
import { parsePgpFingerprint } from '../keys/pgp.js';
import { yamlStore } from '../stores/index.js';
import type { ProjectConfig } from './model.js';
import { recipientLabel, type Recipient, type RecipientType } from './recipients.js';
import { parseSealantConfig } from './sealant-config.js';

/** The outcome of an add or remove (the `--json` result of the recipients commands). */
export interface RecipientChange {
  /** The config file, as shown to the user. */
  config: string;
  environment: string;
  /** 1-based key group, when the environment uses `key_groups`. */
  group?: number;
  type: RecipientType;
  /** `age1…`, `arn:…` (`+role`), or `pgp:FPR`. */
  recipient: string;
  /** False when there was nothing to do (already a recipient / not a recipient). */
  changed: boolean;
}

/** Where a recipient list lives: the environment map itself, or one key group's map. */
interface Target {
  map: MapNode;
  group?: number;
}

/** Canonical key order; a new list is inserted after the keys that come before it here. */
const KEY_ORDER = ['files', 'path_regex', 'age', 'kms', 'pgp'];

function entries(m: MapNode): MapEntry[] {
  return m.items.filter((i): i is MapEntry => i.kind === 'entry');
}

function values(s: SeqNode): Node[] {
  return s.items.filter((i): i is Node => i.kind !== 'comment');
}

function scalarString(n: Node | undefined): string | undefined {
  return n?.kind === 'scalar' && n.value.type === 'str' ? n.value.value : undefined;
}

/** The environment's map, or its `group`-th key group's. */
function target(
  root: MapNode,
  config: ProjectConfig,
  shown: string,
  envName: string,
  group: number | undefined,
): Target {
  const env = config.environments.find((e) => e.name === envName);
  if (env === undefined)
    throw new ConfigError(`no environment "${envName}" (known: ${config.environments.map((e) => e.name).join(', ')})`, {
      file: shown,
    });
  const envMap = get(get(root, 'environments') as MapNode, envName) as MapNode;
  const groups = get(envMap, 'key_groups');
  if (groups?.kind !== 'seq') {
    if (group !== undefined && group !== 1)
      throw new UsageError(`environment "${envName}" has no key_groups: leave out --group (or use --group 1)`);
    return { map: envMap };
  }
  const count = values(groups).length;
  if (group === undefined) throw new UsageError(`environment "${envName}" uses key_groups: pass --group 1…${count}`);
  if (group < 1 || group > count)
    throw new UsageError(`--group must be between 1 and ${count} for environment "${envName}"`);
  return { map: values(groups)[group - 1] as MapNode, group };
}

/** Whether list item `n` is the recipient `r` (a KMS key without a role given matches any role on removal). */
function sameRecipient(n: Node, r: Recipient, anyRole: boolean): boolean {
  switch (r.type) {
    case 'age':
      return scalarString(n) === r.recipient;
    case 'pgp': {
      const s = scalarString(n);
      return (
        s !== undefined &&
        s.replace(/\s+/g, '').replace(/^0x/i, '').toUpperCase() === parsePgpFingerprint(r.fingerprint)
      );
    }
    case 'kms': {
      if (n.kind !== 'map' || scalarString(get(n, 'arn')) !== r.kms.arn) return false;
      return anyRole && r.kms.role === undefined ? true : (scalarString(get(n, 'role')) ?? '') === (r.kms.role ?? '');
    }
  }
}

function itemNode(r: Recipient): Node {
  switch (r.type) {
    case 'age':
      return str(r.recipient);
    case 'pgp':
      return str(r.fingerprint);
    case 'kms':
      return map([
        ['arn', str(r.kms.arn)],
        ...(r.kms.role === undefined ? [] : ([['role', str(r.kms.role)]] as [string, Node][])),
      ]);
  }
}

/** Index after `from` and the inline comment that sits on its line, if any. */
function afterWithComment(items: readonly (MapEntry | CommentNode | Node)[], from: number): number {
  let i = from + 1;
  while (i < items.length && (items[i] as CommentNode).kind === 'comment' && (items[i] as CommentNode).inline === true)
    i++;
  return i;
}

function insertList(m: MapNode, key: RecipientType, item: Node): void {
  const before = KEY_ORDER.slice(0, KEY_ORDER.indexOf(key));
  let last = -1;
  m.items.forEach((it, i) => {
    if (it.kind === 'entry' && before.includes(it.key)) last = i;
  });
  const at = last === -1 ? 0 : afterWithComment(m.items, last);
  m.items.splice(at, 0, { kind: 'entry', key, value: seq([item]) });
}

/** Removes the items matching `r` (with their inline comments); returns how many. */
function removeFrom(list: SeqNode, r: Recipient): number {
  let removed = 0;
  for (let i = list.items.length - 1; i >= 0; i--) {
    const it = list.items[i] as Node | CommentNode;
    if (it.kind === 'comment' || !sameRecipient(it, r, true)) continue;
    list.items.splice(i, afterWithComment(list.items, i) - i);
    removed++;
  }
  return removed;
}

function recipientsLeft(m: MapNode): number {
  return entries(m)
    .filter((e) => e.key === 'age' || e.key === 'kms' || e.key === 'pgp')
    .reduce((n, e) => n + (e.value.kind === 'seq' ? values(e.value).length : 0), 0);
}

/** Drops an emptied `age:`/`kms:`/`pgp:` entry (an empty block list would read back as null). */
function dropEntry(m: MapNode, key: string): void {
  const i = m.items.findIndex((it) => it.kind === 'entry' && it.key === key);
  if (i >= 0) m.items.splice(i, afterWithComment(m.items, i) - i);
}

/** Result of a pure text edit. */
export interface TextEdit {
  text: string;
  changed: boolean;
  group?: number;
}

function load(
  text: string,
  path: string,
  shown: string,
): { root: MapNode; serialize: () => string; config: ProjectConfig } {
  const config = parseSealantConfig(text, path, shown);
  const doc = yamlStore.load(text, shown);
  const root = doc.documents[0];
  if (doc.documents.length !== 1 || root === undefined)
    throw new ConfigError('expected a single YAML document', { file: shown });
  return { root, serialize: () => doc.serialize(), config };
}

function done(text: string, path: string, shown: string, out: string, group: number | undefined): TextEdit {
  // The result must still be a valid config: a failure here is a bug, not the user's input.
  parseSealantConfig(out, path, shown);
  return { text: out, changed: out !== text, ...(group === undefined ? {} : { group }) };
}

/**
 * Adds `recipient` to environment `envName` (to key group `group`, 1-based, when it uses key
 * groups) in the text of a `.sealant.yaml`. Adding a recipient that is already there changes
 * nothing (`changed: false`).
 * @throws ConfigError for an invalid config or an unknown environment; UsageError when
 * `group` is missing for an environment with key groups, or out of range.
 */
export function addRecipientText(
  text: string,
  path: string,
  envName: string,
  recipient: Recipient,
  group?: number,
  shown: string = path,
): TextEdit {
  const { root, serialize, config } = load(text, path, shown);
  const t = target(root, config, shown, envName, group);
  const list = get(t.map, recipient.type);
  if (list?.kind === 'seq') {
    if (!values(list).some((n) => sameRecipient(n, recipient, false))) list.items.push(itemNode(recipient));
  } else {
    insertList(t.map, recipient.type, itemNode(recipient));
  }
  return done(text, path, shown, serialize(), t.group);
}

/**
 * Removes `recipient` from environment `envName` (from key group `group` with key groups). A
 * KMS key given without `+role` removes every entry for that ARN. Removing a recipient that is
 * not there changes nothing.
 * @throws ConfigError when it is the group's last recipient (a group needs one); the same
 * errors as {@link addRecipientText} otherwise.
 */
export function removeRecipientText(
  text: string,
  path: string,
  envName: string,
  recipient: Recipient,
  group?: number,
  shown: string = path,
): TextEdit {
  const { root, serialize, config } = load(text, path, shown);
  const t = target(root, config, shown, envName, group);
  const list = get(t.map, recipient.type);
  if (list?.kind !== 'seq' || removeFrom(list, recipient) === 0)
    return { text, changed: false, ...(t.group === undefined ? {} : { group: t.group }) };
  if (values(list).length === 0) dropEntry(t.map, recipient.type);
  if (recipientsLeft(t.map) === 0) {
    const where =
      t.group === undefined ? `environment "${envName}"` : `key group ${t.group} of environment "${envName}"`;
    throw new ConfigError(`${recipientLabel(recipient)} is the last recipient of ${where}`, {
      file: shown,
      hint: 'add the new recipient first, then remove this one',
    });
  }
  return done(text, path, shown, serialize(), t.group);
}
