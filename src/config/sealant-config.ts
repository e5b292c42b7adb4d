/**
 * `.sealant.yaml`: environments, each owning files by glob, with its recipients and encryption
 * rule. The file is checked in two passes, both reporting `file:line:col`: the JSON schema
 * (shape, unknown keys) and then what a schema cannot say well (recipient checksums, one rule
 * field at most, regexes and globs that compile, a recipient in every group).
 */
import { dirname } from 'node:path';
import { isMap, isScalar } from 'yaml';
import { SealantError } from '../errors.js';
import { shamirThresholdProblem } from '../format/metadata.js';
import { compileGlob } from '../util/glob.js';
import { CRYPT_RULE_FIELDS, type CryptRule, type CryptRuleField } from '../format/selectors.js';
import { parseAgeRecipient } from '../keys/age.js';
import { recipientCount, type GroupRecipients, type KmsRecipient } from '../keys/datakey.js';
import { parsePgpFingerprint } from '../keys/pgp.js';
import { parseDuration } from './duration.js';
import type { EnvironmentConfig, KeyPolicy, ProjectConfig } from './model.js';
import { parseKmsArn } from './recipients.js';
import { checkRegex } from './regex.js';
import { schemaProblems } from './schema.js';
import type { RenderSettings, SecretSpec } from '../render/settings.js';
import { errorAt, locate, parseConfigYaml, plainValue, type ConfigYaml } from './yaml-doc.js';

type Path = (string | number)[];

/** The plain shape the schema guarantees (only the parts read here). */
interface RawGroup {
  age?: string[];
  kms?: { arn: string; role?: string; context?: Record<string, string>; profile?: string }[];
  pgp?: string[];
}

interface RawEnvironment extends RawGroup, Partial<Record<CryptRuleField, string>> {
  files?: string[];
  path_regex?: string;
  key_groups?: RawGroup[];
  shamir_threshold?: number;
  mac_only_encrypted?: boolean;
  schema?: string;
  schemas?: { files: string[]; schema: string }[];
  parity_ignore?: string[];
  rotate_every?: string;
  data_key_max_age?: string;
  owner?: string;
  policies?: { keys: string[]; rotate_every?: string; owner?: string }[];
  render?: {
    dotenv?: RenderSettings['dotenv'];
    secrets?: (Omit<SecretSpec, 'stripPrefix'> & { strip_prefix?: string })[];
  };
}

/**
 * Runs `check`, turning a recipient/regex error it throws into a ConfigError at `path`.
 * Those errors name only public things (recipients, ARNs, patterns), so their text is kept.
 */
function at<T>(y: ConfigYaml, path: Path, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof SealantError) throw errorAt(y, path, e.message, e.hint);
    throw e;
  }
}

function kmsRecipient(y: ConfigYaml, path: Path, k: NonNullable<RawGroup['kms']>[number]): KmsRecipient {
  const out: KmsRecipient = { arn: at(y, [...path, 'arn'], () => parseKmsArn(k.arn)) };
  if (k.role !== undefined) out.role = k.role;
  if (k.context !== undefined && Object.keys(k.context).length > 0) out.context = { ...k.context };
  if (k.profile !== undefined) out.awsProfile = k.profile;
  return out;
}

function group(y: ConfigYaml, path: Path, raw: RawGroup): GroupRecipients {
  const g: GroupRecipients = {
    age: (raw.age ?? []).map((r, i) => at(y, [...path, 'age', i], () => parseAgeRecipient(r))),
    kms: (raw.kms ?? []).map((k, i) => kmsRecipient(y, [...path, 'kms', i], k)),
    pgp: (raw.pgp ?? []).map((fp, i) => at(y, [...path, 'pgp', i], () => parsePgpFingerprint(fp))),
  };
  if (recipientCount(g) === 0) throw errorAt(y, path, 'no recipients: list at least one of age, kms or pgp');
  return g;
}

function groups(y: ConfigYaml, path: Path, raw: RawEnvironment): GroupRecipients[] {
  if (raw.key_groups === undefined) return [group(y, path, raw)];
  const out = raw.key_groups.map((g, i) => group(y, [...path, 'key_groups', i], g));
  const problem =
    raw.shamir_threshold === undefined ? undefined : shamirThresholdProblem(raw.shamir_threshold, out.length);
  if (problem !== undefined) throw errorAt(y, [...path, 'shamir_threshold'], problem);
  return out;
}

/** The one encryption rule; a second one is reported at its own line, as SOPS refuses it too. */
function cryptRule(y: ConfigYaml, path: Path, raw: RawEnvironment): CryptRule | undefined {
  const set = CRYPT_RULE_FIELDS.filter((f) => raw[f] !== undefined);
  if (set.length > 1) {
    const [first, second] = [...set].sort((a, b) => locate(y, [...path, a]).line - locate(y, [...path, b]).line) as [
      CryptRuleField,
      CryptRuleField,
    ];
    throw errorAt(y, [...path, second], `only one of ${CRYPT_RULE_FIELDS.join(', ')} may be set (${first} is set too)`);
  }
  const field = set[0];
  if (field === undefined) return undefined;
  const value = raw[field] as string;
  if (field.endsWith('_regex')) checkRegex(y, [...path, field], value);
  return { field, value };
}

/**
 * Checks that each glob at `path` of `y` compiles.
 * @throws ConfigError at the glob (a negated extglob `!(…)` has no linear-time form).
 */
function checkGlobs(y: ConfigYaml, path: Path, globs: readonly string[] | undefined): void {
  globs?.forEach((g, i) => {
    try {
      compileGlob(g.startsWith('!') ? g.slice(1) : g);
    } catch {
      throw errorAt(y, [...path, i], 'is not a supported glob (a negated extglob !(…) cannot be matched)');
    }
  });
}

function environment(y: ConfigYaml, name: string, raw: RawEnvironment): EnvironmentConfig {
  const path: Path = ['environments', name];
  checkGlobs(y, [...path, 'files'], raw.files);
  raw.schemas?.forEach((s, i) => checkGlobs(y, [...path, 'schemas', i, 'files'], s.files));
  raw.policies?.forEach((p, i) => checkGlobs(y, [...path, 'policies', i, 'keys'], p.keys));
  checkGlobs(y, [...path, 'parity_ignore'], raw.parity_ignore);
  const env: EnvironmentConfig = {
    name,
    files: raw.files ?? [],
    groups: groups(y, path, raw),
    line: locate(y, path).line,
  };
  if (env.files.length > 0 && env.files.every((f) => f.startsWith('!')))
    throw errorAt(y, [...path, 'files'], 'only exclusions (!…): add at least one glob that selects files');
  if (raw.path_regex !== undefined) {
    const pattern = raw.path_regex;
    checkRegex(y, [...path, 'path_regex'], pattern);
    env.pathRegex = pattern;
  }
  if (raw.shamir_threshold !== undefined) env.shamirThreshold = raw.shamir_threshold;
  const rule = cryptRule(y, path, raw);
  if (rule !== undefined) env.rule = rule;
  if (raw.mac_only_encrypted !== undefined) env.macOnlyEncrypted = raw.mac_only_encrypted;
  if (raw.schema !== undefined) env.schema = raw.schema;
  if (raw.render !== undefined) env.render = renderSettings(raw.render);
  if (raw.schemas !== undefined) env.schemas = raw.schemas;
  if (raw.parity_ignore !== undefined) env.parityIgnore = raw.parity_ignore;
  rotationPolicy(env, raw);
  return env;
}

/** Copies the rotation fields; the schema has already checked each duration's shape. */
function rotationPolicy(env: EnvironmentConfig, raw: RawEnvironment): void {
  if (raw.rotate_every !== undefined) env.rotateEvery = parseDuration(raw.rotate_every);
  if (raw.data_key_max_age !== undefined) env.dataKeyMaxAge = parseDuration(raw.data_key_max_age);
  if (raw.owner !== undefined) env.owner = raw.owner;
  if (raw.policies !== undefined) {
    env.policies = raw.policies.map((p) => {
      const out: KeyPolicy = { keys: p.keys };
      if (p.rotate_every !== undefined) out.rotateEvery = parseDuration(p.rotate_every);
      if (p.owner !== undefined) out.owner = p.owner;
      return out;
    });
  }
}

function renderSettings(raw: NonNullable<RawEnvironment['render']>): RenderSettings {
  const out: RenderSettings = {};
  if (raw.dotenv !== undefined) out.dotenv = raw.dotenv;
  if (raw.secrets !== undefined) {
    out.secrets = raw.secrets.map(({ strip_prefix, ...rest }) =>
      strip_prefix === undefined ? rest : { ...rest, stripPrefix: strip_prefix },
    );
  }
  return out;
}

/** Environment names in file order (a plain object would put `2` before `dev`). */
function environmentNames(y: ConfigYaml): string[] {
  const root = y.doc.contents;
  const envs = isMap(root) ? root.get('environments', true) : undefined;
  if (!isMap(envs)) return [];
  return envs.items.map((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)));
}

/**
 * Reads a `.sealant.yaml`.
 * @param text - the file's content.
 * @param path - absolute path of the file (its directory is the root globs are relative to).
 * @param shown - the file name used in messages (default `path`).
 * @throws ConfigError (exit 5) at the first problem, with file, line, column and key path:
 * YAML syntax, schema violations (unknown keys, wrong types, missing `files`), malformed
 * recipients, more than one encryption rule, a regex that does not compile, an empty group.
 */
export function parseSealantConfig(text: string, path: string, shown: string = path): ProjectConfig {
  const y = parseConfigYaml(text, shown);
  const data = plainValue(y) ?? {};
  const problems = schemaProblems(data)
    .map((p) => ({ ...p, pos: locate(y, p.path) }))
    .sort((a, b) => a.pos.line - b.pos.line || a.pos.col - b.pos.col);
  const first = problems[0];
  if (first !== undefined) {
    const more = problems.length > 1 ? `${problems.length - 1} more problem(s) in this file` : undefined;
    const hint = [first.hint, more].filter((h) => h !== undefined).join('; ');
    throw errorAt(y, first.path, first.message, hint === '' ? undefined : hint);
  }
  const top = data as { environments: Record<string, RawEnvironment>; parity?: { ignore?: string[] } };
  const raw = top.environments;
  checkGlobs(y, ['parity', 'ignore'], top.parity?.ignore);
  const environments = environmentNames(y).map((name) => environment(y, name, raw[name] as RawEnvironment));
  const config: ProjectConfig = { kind: 'sealant', path, root: dirname(path), environments };
  if (top.parity?.ignore !== undefined) config.parityIgnore = top.parity.ignore;
  return config;
}
