/**
 * `.sops.yaml`, read the way SOPS 3.x reads it (`config/config.go`): each creation rule becomes
 * one environment (`rule-1`, `rule-2`…) with its `path_regex`; `environmentFor` then picks the
 * first rule that matches, as SOPS does. Unknown keys are ignored (so a `path_regexp` typo
 * leaves a rule that matches every file — SOPS's behaviour, kept on purpose).
 *
 * One deliberate difference: SOPS checks a rule (regex, keys, rule fields) only when a file
 * matches it; sealant checks every rule when the file is loaded and reports the first problem
 * with its line, so a broken rule is found before the day a file needs it.
 */
import { dirname } from 'node:path';
import { isMap, isScalar, isSeq, type YAMLMap } from 'yaml';
import { SealantError } from '../errors.js';
import { shamirThresholdProblem } from '../format/metadata.js';
import { CRYPT_RULE_FIELDS, type CryptRule } from '../format/selectors.js';
import { parseAgeRecipient } from '../keys/age.js';
import type { GroupRecipients, KmsRecipient } from '../keys/datakey.js';
import { parsePgpFingerprint } from '../keys/pgp.js';
import type { EnvironmentConfig, ProjectConfig } from './model.js';
import { parseKmsArn, parseKmsString } from './recipients.js';
import { checkRegex } from './regex.js';
import { errorAt, locate, parseConfigYaml, type ConfigYaml } from './yaml-doc.js';

type Path = (string | number)[];

/** Key types SOPS supports and sealant does not (yet); flat rule fields. */
const UNSUPPORTED_RULE_KEYS = ['gcp_kms', 'azure_keyvault', 'hc_vault_transit_uri', 'hckms', 'plugins'];
/** The same inside a `key_groups` item. */
const UNSUPPORTED_GROUP_KEYS = ['gcp_kms', 'azure_keyvault', 'hc_vault', 'hckms', 'plugins'];

/** A value with the path it was read from, for messages. */
interface Located {
  value: string;
  path: Path;
}

/** The value node under `key`, or undefined when absent or null (Go's zero value). */
function field(m: YAMLMap, key: string): unknown {
  const v = m.get(key, true);
  return isScalar(v) && v.value === null ? undefined : v;
}

/** A Go `string` field: yaml.v3 decodes any scalar into it as written (`5` → "5"). */
function stringField(y: ConfigYaml, path: Path, m: YAMLMap, key: string): string {
  const v = field(m, key);
  if (v === undefined) return '';
  if (!isScalar(v)) throw errorAt(y, [...path, key], 'must be a string');
  return typeof v.value === 'string' ? v.value : (v.source ?? String(v.value));
}

/** SOPS's `parseKeyField`: a comma-separated string or a list of strings. */
function keyField(y: ConfigYaml, path: Path, m: YAMLMap, key: string): Located[] {
  const v = field(m, key);
  if (v === undefined) return [];
  if (isScalar(v) && typeof v.value === 'string') return splitComma(v.value, [...path, key]);
  if (isSeq(v)) {
    return v.items.flatMap((item, i) => {
      if (!isScalar(item) || typeof item.value !== 'string')
        throw errorAt(y, [...path, key, i], `invalid ${key} key configuration: expected a string in the list`);
      return [{ value: item.value, path: [...path, key, i] }];
    });
  }
  throw errorAt(y, [...path, key], `invalid ${key} key configuration: expected a string or a list of strings`);
}

/** A Go `[]string` field (inside key groups): a list whose scalars are taken as written. */
function stringList(y: ConfigYaml, path: Path, m: YAMLMap, key: string): Located[] {
  const v = field(m, key);
  if (v === undefined) return [];
  if (!isSeq(v)) throw errorAt(y, [...path, key], 'must be a list');
  return v.items.map((item, i) => {
    if (!isScalar(item)) throw errorAt(y, [...path, key, i], 'must be a string');
    return {
      value: typeof item.value === 'string' ? item.value : (item.source ?? String(item.value)),
      path: [...path, key, i],
    };
  });
}

function splitComma(text: string, path: Path): Located[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((value) => ({ value, path }));
}

function present(m: YAMLMap, keys: readonly string[]): string[] {
  return keys.filter((k) => {
    const v = field(m, k);
    return v !== undefined && !(isSeq(v) && v.items.length === 0) && !(isScalar(v) && v.value === '');
  });
}

function check<T>(y: ConfigYaml, path: Path, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SealantError) throw errorAt(y, path, e.message, e.hint);
    throw e;
  }
}

function age(y: ConfigYaml, items: Located[]): string[] {
  // age.MasterKeysFromRecipients splits every entry on commas again.
  return items
    .flatMap((l) => splitComma(l.value, l.path))
    .map((l) => check(y, l.path, () => parseAgeRecipient(l.value)));
}

function pgp(y: ConfigYaml, items: Located[]): string[] {
  return items.map((l) => check(y, l.path, () => parsePgpFingerprint(l.value)));
}

/** A map node, or an error at `path`. */
function asMap(y: ConfigYaml, path: Path, node: unknown, what: string): YAMLMap {
  if (!isMap(node)) throw errorAt(y, path, `${what} must be a mapping`);
  return node;
}

function groupKms(y: ConfigYaml, path: Path, m: YAMLMap): KmsRecipient[] {
  const v = field(m, 'kms');
  if (v === undefined) return [];
  if (!isSeq(v)) throw errorAt(y, [...path, 'kms'], 'must be a list');
  return v.items.map((item, i) => {
    const p = [...path, 'kms', i];
    const k = asMap(y, p, item, 'a kms entry');
    const out: KmsRecipient = { arn: check(y, [...p, 'arn'], () => parseKmsArn(stringField(y, p, k, 'arn'))) };
    const role = stringField(y, p, k, 'role');
    if (role !== '') out.role = role;
    const profile = stringField(y, p, k, 'aws_profile');
    if (profile !== '') out.awsProfile = profile;
    const context = kmsContext(y, [...p, 'context'], field(k, 'context'));
    if (context !== undefined) out.context = context;
    return out;
  });
}

function kmsContext(y: ConfigYaml, path: Path, node: unknown): Record<string, string> | undefined {
  if (node === undefined) return undefined;
  const m = asMap(y, path, node, 'context');
  const out: Record<string, string> = {};
  for (const pair of m.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const v = pair.value;
    if (!isScalar(v) || v.value === null) throw errorAt(y, [...path, key], 'context values must be strings');
    out[key] = typeof v.value === 'string' ? v.value : (v.source ?? String(v.value));
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/** Raw master keys of one `key_groups` item, `merge`d groups first (`extractMasterKeys`). */
function groupKeys(y: ConfigYaml, path: Path, m: YAMLMap, unsupported: Set<string>): Required<GroupRecipients> {
  const out: Required<GroupRecipients> = { age: [], kms: [], pgp: [] };
  const merge = field(m, 'merge');
  if (merge !== undefined) {
    if (!isSeq(merge)) throw errorAt(y, [...path, 'merge'], 'must be a list of key groups');
    merge.items.forEach((item, i) => {
      const sub = groupKeys(
        y,
        [...path, 'merge', i],
        asMap(y, [...path, 'merge', i], item, 'a merged key group'),
        unsupported,
      );
      out.age.push(...sub.age);
      out.kms.push(...sub.kms);
      out.pgp.push(...sub.pgp);
    });
  }
  out.age.push(...age(y, stringList(y, path, m, 'age')));
  out.pgp.push(...pgp(y, stringList(y, path, m, 'pgp')));
  out.kms.push(...groupKms(y, path, m));
  for (const k of present(m, UNSUPPORTED_GROUP_KEYS)) unsupported.add(k);
  return out;
}

/** SOPS's `deduplicateKeygroup`: by key type and `ToString()` (a KMS key's is its ARN alone). */
function dedupe(g: Required<GroupRecipients>): GroupRecipients {
  const uniq = <T>(items: T[], id: (t: T) => string) =>
    items.filter((t, i) => items.findIndex((u) => id(u) === id(t)) === i);
  return { age: uniq(g.age, (a) => a), kms: uniq(g.kms, (k) => k.arn), pgp: uniq(g.pgp, (p) => p) };
}

function flatGroup(y: ConfigYaml, path: Path, m: YAMLMap): GroupRecipients {
  const profile = stringField(y, path, m, 'aws_profile');
  // Outside key_groups SOPS applies no dedupe, and the KMS context can only come from the CLI.
  const kms = keyField(y, path, m, 'kms')
    .flatMap((l) => splitComma(l.value, l.path))
    .map((l) => check(y, l.path, () => parseKmsString(l.value, profile)));
  return {
    age: age(y, keyField(y, path, m, 'age')),
    kms,
    pgp: pgp(
      y,
      keyField(y, path, m, 'pgp').flatMap((l) => splitComma(l.value, l.path)),
    ),
  };
}

function ruleGroups(y: ConfigYaml, path: Path, m: YAMLMap, unsupported: Set<string>): GroupRecipients[] {
  const kg = field(m, 'key_groups');
  if (kg !== undefined && !isSeq(kg)) throw errorAt(y, [...path, 'key_groups'], 'must be a list of key groups');
  if (kg !== undefined && kg.items.length > 0) {
    return kg.items.map((item, i) =>
      dedupe(
        groupKeys(
          y,
          [...path, 'key_groups', i],
          asMap(y, [...path, 'key_groups', i], item, 'a key group'),
          unsupported,
        ),
      ),
    );
  }
  for (const k of present(m, UNSUPPORTED_RULE_KEYS)) unsupported.add(k);
  return [flatGroup(y, path, m)];
}

function cryptRule(y: ConfigYaml, path: Path, m: YAMLMap): CryptRule | undefined {
  const set = CRYPT_RULE_FIELDS.map((f) => ({ field: f, value: stringField(y, path, m, f) })).filter(
    (r) => r.value !== '',
  );
  if (set.length > 1) {
    throw errorAt(
      y,
      path,
      `cannot use more than one of ${CRYPT_RULE_FIELDS.join(', ')} for the same rule (${set.map((r) => r.field).join(' and ')} are set)`,
    );
  }
  const rule = set[0];
  if (rule !== undefined && rule.field.endsWith('_regex')) checkRegex(y, [...path, rule.field], rule.value);
  return rule;
}

function shamirThreshold(y: ConfigYaml, path: Path, m: YAMLMap, groups: number): number | undefined {
  const v = field(m, 'shamir_threshold');
  if (v === undefined) return undefined;
  if (!isScalar(v) || typeof v.value !== 'number' || !Number.isInteger(v.value) || v.value < 0)
    throw errorAt(y, [...path, 'shamir_threshold'], 'must be a whole number');
  const problem = shamirThresholdProblem(v.value, groups);
  if (problem !== undefined) throw errorAt(y, [...path, 'shamir_threshold'], problem);
  return v.value === 0 || groups < 2 ? undefined : v.value;
}

function macOnlyEncrypted(y: ConfigYaml, path: Path, m: YAMLMap): boolean {
  const v = field(m, 'mac_only_encrypted');
  if (v === undefined) return false;
  if (!isScalar(v) || typeof v.value !== 'boolean')
    throw errorAt(y, [...path, 'mac_only_encrypted'], 'must be true or false');
  return v.value;
}

function creationRule(y: ConfigYaml, node: unknown, index: number): EnvironmentConfig {
  const path: Path = ['creation_rules', index];
  const m = asMap(y, path, node, 'a creation rule');
  const unsupported = new Set<string>();
  const groups = ruleGroups(y, path, m, unsupported);
  const env: EnvironmentConfig = { name: `rule-${index + 1}`, files: [], groups, line: locate(y, path).line };
  const pathRegex = stringField(y, path, m, 'path_regex');
  if (pathRegex !== '') {
    checkRegex(y, [...path, 'path_regex'], pathRegex);
    env.pathRegex = pathRegex;
  }
  const threshold = shamirThreshold(y, path, m, groups.length);
  if (threshold !== undefined) env.shamirThreshold = threshold;
  const rule = cryptRule(y, path, m);
  if (rule !== undefined) env.rule = rule;
  if (macOnlyEncrypted(y, path, m)) env.macOnlyEncrypted = true;
  if (unsupported.size > 0) env.unsupportedKeys = [...unsupported];
  return env;
}

/**
 * Reads a `.sops.yaml`.
 * @param path - absolute path of the file (`path_regex` is matched relative to its directory).
 * @param shown - the file name used in messages (default `path`).
 * @returns undefined when the file has no `creation_rules` (SOPS then acts as if there were no
 * config file at all).
 * @throws ConfigError (exit 5) with file, line and column for YAML syntax errors, values of the
 * wrong type, malformed recipients, more than one encryption rule in a rule, a regex that does
 * not compile, or a threshold above the number of key groups.
 */
export function parseSopsConfig(text: string, path: string, shown: string = path): ProjectConfig | undefined {
  const y = parseConfigYaml(text, shown);
  const root = y.doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return undefined;
  const m = asMap(y, [], root, 'the file');
  const rules = field(m, 'creation_rules');
  if (rules === undefined) return undefined;
  if (!isSeq(rules)) throw errorAt(y, ['creation_rules'], 'must be a list');
  const environments = rules.items.map((item, i) => creationRule(y, item, i));
  return { kind: 'sops', path, root: dirname(path), environments };
}
