/**
 * `sealant config import`: a `.sops.yaml` turned into an equivalent `.sealant.yaml`.
 *
 * Each creation rule becomes one environment. A `path_regex` becomes `files:` globs only when
 * the globs select exactly the same paths (a small, exact translation: literals, `.*`,
 * `[^/]*`, `^`, `$`); otherwise it is kept as `path_regex:`. SOPS picks the *first* matching
 * rule while sealant wants exactly one environment per file, so a later environment gets
 * `!glob` exclusions for the earlier ones it could overlap; overlaps that cannot be expressed
 * (a regex environment) are reported as warnings, checked against the files that exist.
 */
import { resolve } from 'node:path';
import { Document, isMap, isScalar, isSeq, Scalar, type Pair } from 'yaml';
import { ConfigError } from '../errors.js';
import type { GroupRecipients, KmsRecipient } from '../keys/datakey.js';
import { selects } from './files.js';
import { SEALANT_CONFIG_FILE, SOPS_CONFIG_FILE, type EnvironmentConfig, type ProjectConfig } from './model.js';
import { parseSealantConfig } from './sealant-config.js';

/** One imported environment (part of `config import --json`). */
export interface ImportedEnvironment {
  name: string;
  /** 1-based position of the creation rule it came from. */
  rule: number;
  files?: string[];
  pathRegex?: string;
}

/** Result of {@link importSopsConfig}. */
export interface ImportResult {
  /** The `.sealant.yaml` text. */
  text: string;
  environments: ImportedEnvironment[];
  /** Overlaps the new file cannot resolve the way `.sops.yaml`'s rule order did. */
  warnings: string[];
}

// ---------------------------------------------------------------------------------------------
// path_regex -> globs

type Token = { t: 'lit'; s: string } | { t: 'any' } | { t: 'seg'; plus: boolean };

/** Characters that mean something in a glob: a literal holding one is not translated. */
const GLOB_SPECIAL = /[*?[\]{}()!+@\\#]/;

function tokenize(body: string): Token[] | undefined {
  const out: Token[] = [];
  const lit = (s: string) => {
    const last = out[out.length - 1];
    if (last?.t === 'lit') last.s += s;
    else out.push({ t: 'lit', s });
  };
  for (let i = 0; i < body.length;) {
    const rest = body.slice(i);
    const seg = /^\[\^\/\]([*+])/.exec(rest);
    if (rest.startsWith('.*')) {
      out.push({ t: 'any' });
      i += rest.startsWith('.*?') ? 3 : 2;
    } else if (seg !== null) {
      out.push({ t: 'seg', plus: seg[1] === '+' });
      i += seg[0].length;
    } else if (rest[0] === '\\') {
      const c = rest[1];
      if (c === undefined || /[A-Za-z0-9]/.test(c)) return undefined; // \d, \w, \b…: classes, not literals
      lit(c);
      i += 2;
    } else if (/[.+*?()[\]{}|^$]/.test(rest[0] as string)) {
      return undefined;
    } else {
      lit(rest[0] as string);
      i += 1;
    }
  }
  return out;
}

/** `pattern` ends with an unescaped `$`. */
function endsAnchored(pattern: string): boolean {
  if (!pattern.endsWith('$')) return false;
  const slashes = /\\*$/.exec(pattern.slice(0, -1))?.[0].length ?? 0;
  return slashes % 2 === 0;
}

/**
 * Globs that select exactly the paths a Go regex `pattern` finds a match in, or undefined when
 * the regex uses anything beyond literals, `.*`, `[^/]*`/`[^/]+`, `^` and `$`.
 *
 * `.*` at the start of a path segment is `**` + `/*` (any directories, then any start of a
 * segment); in the middle of a segment it is either `*` (no `/` crossed) or `*` + `/**` + `/*`.
 */
export function globsForRegex(pattern: string): string[] | undefined {
  const start = pattern.startsWith('^');
  const end = endsAnchored(pattern);
  const tokens = tokenize(pattern.slice(start ? 1 : 0, end ? -1 : undefined));
  if (tokens === undefined) return undefined;
  if (!start) tokens.unshift({ t: 'any' });
  if (!end) tokens.push({ t: 'any' });
  let globs = [''];
  let segStart = true;
  let prevAny = false;
  for (const tok of tokens) {
    if (tok.t === 'any' && prevAny) continue;
    prevAny = tok.t === 'any';
    if (tok.t === 'lit') {
      if (GLOB_SPECIAL.test(tok.s)) return undefined;
      globs = globs.map((g) => g + tok.s);
      segStart = tok.s.endsWith('/');
    } else if (tok.t === 'seg') {
      globs = globs.map((g) => g + (tok.plus ? '?*' : '*'));
      segStart = false;
    } else if (segStart) {
      globs = globs.map((g) => `${g}**/*`);
      segStart = false;
    } else {
      globs = globs.flatMap((g) => [`${g}*`, `${g}*/**/*`]);
    }
    if (globs.length > 4) return undefined;
  }
  return [...new Set(globs.map(simplify))];
}

function simplify(glob: string): string {
  if (glob === '**/*') return '**';
  return glob.endsWith('/**/*') ? glob.slice(0, -2) : glob;
}

// ---------------------------------------------------------------------------------------------
// overlaps

const MAGIC = /[*?[\]{}()!+@]/;

/** True when two globs can be shown to select no common path (differing literal prefix or suffix). */
function globsDisjoint(a: string, b: string): boolean {
  const sa = a.split('/');
  const sb = b.split('/');
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    const x = sa[i] as string;
    const y = sb[i] as string;
    if (MAGIC.test(x) || MAGIC.test(y)) break;
    if (x !== y) return true;
  }
  const suffix = (s: string[]) => {
    const last = s[s.length - 1] as string;
    const tail = last.slice(last.lastIndexOf('*') + 1);
    return MAGIC.test(tail) ? '' : tail;
  };
  const [x, y] = [suffix(sa), suffix(sb)];
  return x !== '' && y !== '' && !x.endsWith(y) && !y.endsWith(x);
}

function envsDisjoint(a: string[], b: string[]): boolean {
  return a.every((x) => b.every((y) => globsDisjoint(x, y)));
}

// ---------------------------------------------------------------------------------------------
// names

const ENV_WORDS = new Set([
  'dev',
  'develop',
  'development',
  'staging',
  'stage',
  'stg',
  'prod',
  'production',
  'prd',
  'preprod',
  'test',
  'testing',
  'qa',
  'uat',
  'preview',
  'sandbox',
  'local',
  'ci',
  'demo',
  'int',
  'integration',
]);

/** A readable, unique environment name for a rule: an environment word in its regex if any. */
function nameFor(env: EnvironmentConfig, index: number, taken: Set<string>): string {
  const words = (env.pathRegex ?? '')
    .replace(/\\./g, ' ')
    .split(/[^A-Za-z0-9_-]+/)
    .filter((w) => w !== '');
  let base =
    words.find((w) => ENV_WORDS.has(w.toLowerCase()))?.toLowerCase() ??
    (env.pathRegex === undefined ? 'default' : `rule-${index + 1}`);
  if (taken.has(base)) base = `${base}-${index + 1}`;
  taken.add(base);
  return base;
}

// ---------------------------------------------------------------------------------------------
// rendering

function kmsPlain(k: KmsRecipient): Record<string, unknown> {
  return {
    arn: k.arn,
    ...(k.role === undefined ? {} : { role: k.role }),
    ...(k.context === undefined ? {} : { context: k.context }),
    ...(k.awsProfile === undefined ? {} : { profile: k.awsProfile }),
  };
}

function groupPlain(g: GroupRecipients): Record<string, unknown> {
  return {
    ...(g.age.length === 0 ? {} : { age: g.age }),
    ...(g.kms.length === 0 ? {} : { kms: g.kms.map(kmsPlain) }),
    ...((g.pgp ?? []).length === 0 ? {} : { pgp: g.pgp }),
  };
}

function environmentPlain(env: EnvironmentConfig, files: string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = files !== undefined ? { files } : { path_regex: env.pathRegex };
  if (env.groups.length === 1) Object.assign(out, groupPlain(env.groups[0] as GroupRecipients));
  else out.key_groups = env.groups.map(groupPlain);
  if (env.shamirThreshold !== undefined) out.shamir_threshold = env.shamirThreshold;
  if (env.rule !== undefined) out[env.rule.field] = env.rule.value;
  if (env.macOnlyEncrypted === true) out.mac_only_encrypted = true;
  return out;
}

/** Globs in double quotes and regexes in single quotes, as people write them by hand. */
function styleEnvironment(pair: Pair): void {
  if (!isMap(pair.value)) return;
  for (const p of pair.value.items) {
    const key = isScalar(p.key) ? String(p.key.value) : '';
    if (key === 'files' && isSeq(p.value)) {
      p.value.flow = true;
      for (const item of p.value.items) if (isScalar(item)) item.type = Scalar.QUOTE_DOUBLE;
    } else if ((key === 'path_regex' || key.endsWith('_regex')) && isScalar(p.value)) {
      p.value.type = Scalar.QUOTE_SINGLE;
    }
  }
}

function render(
  envs: { name: string; source: EnvironmentConfig; index: number; plain: Record<string, unknown> }[],
  source: string,
): string {
  const doc = new Document({ environments: Object.fromEntries(envs.map((e) => [e.name, e.plain])) });
  doc.commentBefore = [
    ` Imported from ${source} by \`sealant config import\` (see docs/config.md).`,
    ' .sops.yaml used the first creation rule that matched a file; here every file must match',
    ' exactly one environment, so later environments exclude (!glob) what earlier ones own.',
  ].join('\n');
  const map = doc.get('environments', true);
  if (isMap(map)) {
    map.items.forEach((pair, i) => {
      const e = envs[i];
      if (e === undefined) return;
      const from = e.source.pathRegex === undefined ? 'no path_regex' : `path_regex: ${e.source.pathRegex}`;
      (pair.key as Scalar).commentBefore = ` creation_rules[${e.index}] (${from})`;
      styleEnvironment(pair as Pair);
    });
  }
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

// ---------------------------------------------------------------------------------------------

function checkImportable(config: ProjectConfig, env: EnvironmentConfig, index: number): void {
  const where = { file: config.path, ...(env.line === undefined ? {} : { line: env.line }) };
  if (env.unsupportedKeys !== undefined) {
    throw new ConfigError(
      `creation_rules[${index}] uses ${env.unsupportedKeys.join(', ')} keys, which sealant does not support yet`,
      where,
    );
  }
  if (env.groups.some((g) => g.age.length + g.kms.length + (g.pgp ?? []).length === 0)) {
    throw new ConfigError(
      `creation_rules[${index}] names no age, kms or pgp key (a sealant environment needs recipients)`,
      { ...where, hint: 'add the recipients to the rule, or write that environment by hand' },
    );
  }
}

/** Files that the new config assigns differently from `.sops.yaml`'s first-match rule. */
function overlapWarnings(
  sops: ProjectConfig,
  sealant: ProjectConfig,
  names: string[],
  files: readonly string[],
): string[] {
  const out: string[] = [];
  for (const rel of files) {
    const first = sops.environments.findIndex((e) => selects(e, rel));
    const matches = sealant.environments.filter((e) => selects(e, rel)).map((e) => e.name);
    const expected = first === -1 ? undefined : names[first];
    if (matches.length > 1)
      out.push(
        `${rel} matches environments ${matches.join(' and ')} (.sops.yaml used ${expected ?? 'none'}): narrow their files or path_regex`,
      );
    else if (matches[0] !== expected)
      out.push(`${rel} now belongs to ${matches[0] ?? 'no environment'} instead of ${expected ?? 'none'}`);
    if (out.length >= 20) break;
  }
  return out;
}

/**
 * Turns a parsed `.sops.yaml` into `.sealant.yaml` text.
 * @param files - existing files (relative to the config directory) used to check that every
 * file keeps its environment; pass none to skip the check.
 * @throws ConfigError when a rule uses key types sealant does not support or names no key.
 */
export function importSopsConfig(config: ProjectConfig, files: readonly string[] = []): ImportResult {
  const taken = new Set<string>();
  const envs = config.environments.map((source, index) => {
    checkImportable(config, source, index);
    const globs = source.pathRegex === undefined ? ['**'] : globsForRegex(source.pathRegex);
    return { source, index, name: nameFor(source, index, taken), globs };
  });
  const withExclusions = envs.map((e, i) => {
    if (e.globs === undefined) return { ...e, files: undefined };
    const excluded = envs
      .slice(0, i)
      .flatMap((prev) =>
        prev.globs === undefined || envsDisjoint(e.globs as string[], prev.globs) ? [] : prev.globs.map((g) => `!${g}`),
      );
    return { ...e, files: [...e.globs, ...excluded] };
  });
  const plain = withExclusions.map((e) => ({ ...e, plain: environmentPlain(e.source, e.files) }));
  const text = render(plain, SOPS_CONFIG_FILE);
  const parsed = parseSealantConfig(text, resolve(config.root, SEALANT_CONFIG_FILE), SEALANT_CONFIG_FILE);
  const names = plain.map((e) => e.name);
  return {
    text,
    environments: plain.map((e) => ({
      name: e.name,
      rule: e.index + 1,
      ...(e.files === undefined ? { pathRegex: e.source.pathRegex as string } : { files: e.files }),
    })),
    warnings: overlapWarnings(config, parsed, names, files),
  };
}
