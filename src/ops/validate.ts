/**
 * `sealant validate`: every file of the project (or of `--env`, or the files named) checked
 * against its environment — without keys by default, with them under `decrypt` — and key
 * parity across environments. Problems in the data are results; only problems that stop the run
 * (config, schema files) are thrown.
 */
import { relative, resolve } from 'node:path';
import { ConfigError, formatPath, SealantError } from '../errors.js';
import { configRelativePath } from '../config/files.js';
import { filesOf } from './config-files.js';
import { globListMatcher } from '../util/glob.js';
import type { EnvironmentConfig, ProjectConfig } from '../config/model.js';
import { visitDocuments } from '../format/cipher.js';
import { macUncovered } from '../format/mac.js';
import { DEFAULT_CRYPT_RULE, Selector } from '../format/selectors.js';
import type { KeySources } from '../keys/datakey.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { SchemaSet, SchemaConfigError } from '../schema/ajv.js';
import { validateDecrypted } from '../schema/decrypted.js';
import { buildInstance, escapePointer, pointerToPath, type BuiltInstance } from '../schema/instance.js';
import { validateKeyless } from '../schema/keyless.js';
import { Locator } from '../schema/locate.js';
import type { Finding } from '../schema/messages.js';
import { collectKeys, findParityGaps, type EnvironmentKeys } from '../schema/parity.js';
import { githubLine, humanLine, sortResults, summaryLine, type ValidationResult } from '../schema/report.js';
import type { StoreDocument } from '../stores/store.js';
import { DEFAULT_CONCURRENCY, mapBounded } from './bulk.js';
import type { OpsContext } from './context.js';
import { asEncrypted, loadDocument, openDocument, type EncryptedDocument } from '../document/document.js';
import { readBytes } from './read.js';
import { utf8Text } from '../util/utf8.js';
import { diffRecipients } from '../document/recipients.js';
import { authorityFindings } from '../checks/authority.js';
import { resolveTargets, type Target } from './targets.js';

export type { ValidationResult } from '../schema/report.js';

/** keyless: structure, types, secrets, SOPS metadata; decrypt: also every value rule; parity: keys across environments. */
export type ValidateMode = 'keyless' | 'decrypt' | 'parity';

export interface ValidateOptions {
  mode: ValidateMode;
  /** Only this environment's files (parity: only gaps involving it). */
  env?: string;
  /** Only these files (not with parity). */
  files?: readonly string[];
  configPath?: string;
  /** Required for `decrypt`. */
  sources?: KeySources;
  concurrency?: number;
}

/** What `validate` found (the `--json` result). */
export interface ValidateReport {
  mode: ValidateMode;
  /** Files checked, relative to the working directory. */
  files: string[];
  errors: number;
  /** Values the MAC does not cover (exit 0: nothing is wrong, but no key vouches for them). */
  warnings: number;
  notes: number;
  results: ValidationResult[];
}

interface Run {
  ctx: OpsContext;
  config: ProjectConfig | undefined;
  schemas: SchemaSet;
  sources: KeySources | undefined;
}

/**
 * Validates files or environments.
 * @throws ConfigError (no config for `--env`/parity, unknown environment, file in another
 * environment, or `decrypt` without key sources); SchemaConfigError (exit 2) when a schema
 * file is missing or does not compile. Unreadable or unparsable data files are results, not throws.
 */
export async function validate(ctx: OpsContext, opts: ValidateOptions): Promise<ValidateReport> {
  if (opts.mode === 'parity') return validateParity(ctx, opts);
  if (opts.mode === 'decrypt' && opts.sources === undefined)
    throw new ConfigError('decrypting validation needs key sources');
  const { config, targets } = await resolveTargets(ctx, {
    files: opts.files ?? [],
    env: opts.env,
    configPath: opts.configPath,
  });
  const run: Run = {
    ctx,
    config,
    schemas: new SchemaSet(),
    sources: opts.mode === 'decrypt' ? opts.sources : undefined,
  };
  const outcomes = await mapBounded(targets, opts.concurrency ?? DEFAULT_CONCURRENCY, (t) => checkFile(run, t));
  const results: ValidationResult[] = [];
  outcomes.forEach((o, i) => {
    if (o.ok) results.push(...o.value);
    else if (o.error instanceof SealantError && !(o.error instanceof SchemaConfigError))
      results.push(errorAt(targets[i]!.file, 'read', o.error.message));
    else throw o.error;
  });
  return report(
    opts.mode,
    targets.map((t) => t.file),
    results,
  );
}

function report(mode: ValidateMode, files: string[], results: ValidationResult[]): ValidateReport {
  const count = (s: ValidationResult['severity']) => results.filter((r) => r.severity === s).length;
  return {
    mode,
    files,
    errors: count('error'),
    warnings: count('warning'),
    notes: count('note'),
    results: sortResults(results),
  };
}

function errorAt(file: string, keyword: string, message: string, line = 1, col = 1): ValidationResult {
  return { file, line, col, path: '', keyword, severity: 'error', message };
}

/** All checks of one file. @throws SchemaConfigError; ReadError when it cannot be read. */
async function checkFile(run: Run, t: Target): Promise<ValidationResult[]> {
  const bytes = await readBytes(resolve(run.ctx.cwd, t.file));
  // Only a binary file may hold bytes that are not UTF-8 (and then it has no lines to point at).
  const text = utf8Text(bytes) ?? '';
  let doc: StoreDocument;
  try {
    doc = loadDocument(bytes, t.file);
  } catch (e) {
    if (e instanceof SealantError) return [errorAt(t.file, 'parse', e.message, e.line ?? 1, e.col ?? 1)];
    throw e;
  }
  const findings: Finding[] = [];
  const enc = sopsFindings(doc, t.environment, findings);
  const built = doc.documents.map((d) => buildInstance(d));
  built.forEach((b, i) => {
    for (const path of b.malformed) findings.push(fileFinding(i, path, 'sops', 'malformed ENC value'));
  });
  if (enc !== undefined) findings.push(...clearSelected(doc, t.environment, enc), ...uncoveredFindings(doc, enc));
  if (t.environment === undefined)
    findings.push({
      doc: 0,
      pointer: '',
      at: '',
      keyword: 'schema',
      severity: 'note',
      message: 'no environment owns this file: only SOPS checks ran',
    });
  findings.push(...(await schemaFindings(run, t, doc, enc, built)));
  const locator = new Locator(text, doc.format);
  return findings.map((f) => locate(t.file, f, locator, built[f.doc]?.low));
}

function locate(file: string, f: Finding, locator: Locator, instance: unknown): ValidationResult {
  const { line, col } = locator.locate(f.doc, f.at);
  const path = f.pointer === '/sops' ? 'sops' : formatPath(pointerToPath(instance, f.pointer));
  return { file, line, col, path, keyword: f.keyword, severity: f.severity, message: f.message };
}

function pointerOf(path: readonly (string | number)[]): string {
  return path.map((s) => `/${escapePointer(s)}`).join('');
}

function fileFinding(doc: number, path: readonly (string | number)[], keyword: string, message: string): Finding {
  const pointer = pointerOf(path);
  return { doc, pointer, at: pointer, keyword, severity: 'error', message };
}

/**
 * The SOPS checks: metadata present and well-formed; a `sops` block weaker than the environment
 * (rule, `mac_only_encrypted`, a recipient it does not name, threshold) as `security` errors;
 * recipients missing and other rule differences as drift.
 */
function sopsFindings(
  doc: StoreDocument,
  env: EnvironmentConfig | undefined,
  out: Finding[],
): EncryptedDocument | undefined {
  const sops = (message: string, keyword = 'sops'): Finding => ({
    doc: 0,
    pointer: '/sops',
    at: doc.metadata === undefined ? '' : '/sops',
    keyword,
    severity: 'error',
    message,
  });
  let enc: EncryptedDocument;
  try {
    enc = asEncrypted(doc);
  } catch (e) {
    out.push(sops(e instanceof SealantError ? e.message : 'invalid sops metadata'));
    return undefined;
  }
  if (env === undefined) return enc;
  const security = authorityFindings(enc.meta, env);
  for (const f of security) out.push(sops(f.message, 'security'));
  const diff = diffRecipients(enc.meta, env.groups, env.shamirThreshold);
  // Recipients the file has and the config does not are security findings above.
  const keysReported = security.some((f) => f.kind !== 'weaker-rule');
  if (diff.changed && (diff.added.length > 0 || !keysReported)) {
    const missing = diff.added.map((a) => `missing ${a}`);
    out.push(
      sops(
        `recipients differ from environment "${env.name}"${missing.length > 0 ? `: ${missing.join(', ')}` : ' (key groups or threshold)'}; run \`sealant updatekeys\``,
        'recipients',
      ),
    );
  }
  const want = env.rule ?? DEFAULT_CRYPT_RULE;
  const have = enc.meta.rule ?? DEFAULT_CRYPT_RULE;
  if ((want.field !== have.field || want.value !== have.value) && !security.some((f) => f.field === have.field)) {
    out.push(
      sops(
        `encryption rule ${have.field}: ${have.value} differs from environment "${env.name}" (${want.field}: ${want.value}); run \`sealant rotate\` to adopt it`,
      ),
    );
  }
  return enc;
}

/** Values the environment's rule selects for encryption that are in clear text ("" and null aside, as SOPS). */
function clearSelected(doc: StoreDocument, env: EnvironmentConfig | undefined, enc: EncryptedDocument): Finding[] {
  const selector = env === undefined ? enc.selector : new Selector(env.rule ?? DEFAULT_CRYPT_RULE);
  const out: Finding[] = [];
  doc.documents.forEach((d, i) => {
    for (const v of visitDocuments([d])) {
      if (v.node.kind !== 'scalar' || !selector.shouldEncrypt(v.keys, v.stack, false)) continue;
      const value = v.node.value;
      if (
        value.type === 'null' ||
        (value.type === 'str' && (value.value === '' || value.value.startsWith('ENC[AES256_GCM,')))
      )
        continue;
      out.push(
        fileFinding(
          i,
          v.path,
          'encryption',
          `value is in clear text but the encryption rule (${selector.rule.field}: ${selector.rule.value}) selects it`,
        ),
      );
    }
  });
  return out;
}

/**
 * Keys whose values the MAC does not cover: each `""`/null (anyone can add one without a key, as
 * `path: ""` to empty a deploy's PATH), and one finding for all clear values under
 * `mac_only_encrypted`, which the file asks for.
 */
function uncoveredFindings(doc: StoreDocument, enc: EncryptedDocument): Finding[] {
  const uncovered = macUncovered(doc.documents, enc.meta.macOnlyEncrypted);
  const empty = uncovered.filter((u) => u.value.type === 'null' || (u.value.type === 'str' && u.value.value === ''));
  const out = empty.map((u): Finding => ({
    ...fileFinding(
      u.doc,
      u.path,
      'mac',
      'value is "" or null, which the MAC does not cover: anyone who can edit the file can add this key without a key',
    ),
    severity: 'warning',
  }));
  const clear = uncovered.length - empty.length;
  if (clear > 0)
    out.push({
      doc: 0,
      pointer: '/sops',
      at: '/sops',
      keyword: 'mac',
      severity: 'warning',
      message: `mac_only_encrypted: the ${clear} value(s) in clear are not covered by the MAC: anyone who can edit the file can change them without a key`,
    });
  return out;
}

/**
 * Which schema file applies to the file at `abs`: the first `schemas:` entry whose globs match,
 * else `schema:` (relative to the config root). Also used by `guard`.
 * @returns undefined when the environment has no schema for it. Never throws.
 */
export function schemaPathFor(config: ProjectConfig, env: EnvironmentConfig, abs: string): string | undefined {
  const rel = configRelativePath(config.root, abs).path;
  for (const entry of env.schemas ?? []) {
    if (globListMatcher(entry.files)(rel)) return entry.schema;
  }
  return env.schema;
}

/**
 * The compiled schema of the file `file` (relative to `cwd`) of environment `env`, if it has one.
 * @throws SchemaConfigError when the schema file is missing or does not compile.
 */
export async function compiledSchemaFor(
  config: ProjectConfig,
  env: EnvironmentConfig,
  cwd: string,
  file: string,
  schemas: SchemaSet,
): Promise<ValidateFunction | undefined> {
  const schema = schemaPathFor(config, env, resolve(cwd, file));
  if (schema === undefined) return undefined;
  const abs = resolve(config.root, schema);
  return schemas.get(abs, relative(cwd, abs) || abs);
}

async function schemaFindings(
  run: Run,
  t: Target,
  doc: StoreDocument,
  enc: EncryptedDocument | undefined,
  built: BuiltInstance[],
): Promise<Finding[]> {
  if (run.config === undefined || t.environment === undefined || doc.format === 'binary') return [];
  const validate = await compiledSchemaFor(run.config, t.environment, run.ctx.cwd, t.file, run.schemas);
  if (validate === undefined) return [];
  if (run.sources !== undefined && enc !== undefined) {
    const decrypted = await tryDecrypt(enc, run.sources);
    if (decrypted === undefined)
      return doc.documents.flatMap((d, i) => validateDecrypted(validate, d, i, built[i]!.index));
    return [
      {
        doc: 0,
        pointer: '',
        at: '',
        keyword: 'decrypt',
        severity: 'error',
        message: `cannot decrypt, so only the checks without keys ran: ${decrypted}`,
      },
      ...keyless(validate, doc, built),
    ];
  }
  return keyless(validate, doc, built);
}

function keyless(
  validate: Parameters<typeof validateKeyless>[0],
  doc: StoreDocument,
  built: BuiltInstance[],
): Finding[] {
  return doc.documents.flatMap((d, i) => validateKeyless(validate, d, i, built[i]));
}

/** Decrypts in place. @returns undefined on success, else the (value-free) reason. */
async function tryDecrypt(enc: EncryptedDocument, sources: KeySources): Promise<string | undefined> {
  try {
    await openDocument(enc, sources);
    return undefined;
  } catch (e) {
    if (e instanceof SealantError) return e.path === undefined ? e.message : `${formatPath(e.path)}: ${e.message}`;
    throw e;
  }
}

/**
 * Keys present in some environments' files but missing in others'.
 * @throws ConfigError without a config, or for an unknown `env`.
 */
async function validateParity(ctx: OpsContext, opts: ValidateOptions): Promise<ValidateReport> {
  const { config } = await resolveTargets(ctx, { configPath: opts.configPath });
  if (config === undefined)
    throw new ConfigError('no .sealant.yaml or .sops.yaml found', {
      hint: 'parity compares the environments of a config',
    });
  if (opts.env !== undefined && !config.environments.some((e) => e.name === opts.env))
    throw new ConfigError(`no environment "${opts.env}"`, { file: config.path });
  const results: ValidationResult[] = [];
  const texts = new Map<string, Locator>();
  const envs: EnvironmentKeys[] = [];
  const checked: string[] = [];
  for (const env of config.environments) {
    const keys: EnvironmentKeys['keys'] = new Map();
    const files = (await filesOf(config, env)).map((f) => relative(ctx.cwd, f) || f);
    if (files.length === 0) continue;
    for (const file of files) {
      const bytes = await readBytes(resolve(ctx.cwd, file));
      try {
        const doc = loadDocument(bytes, file);
        const text = utf8Text(bytes) ?? '';
        collectKeys(keys, doc.documents, file);
        texts.set(file, new Locator(text, doc.format));
      } catch (e) {
        if (!(e instanceof SealantError)) throw e;
        results.push(errorAt(file, 'parse', e.message, e.line ?? 1, e.col ?? 1));
      }
      checked.push(file);
    }
    envs.push({ name: env.name, keys, ignore: env.parityIgnore ?? [] });
  }
  for (const gap of findParityGaps(envs, config.parityIgnore ?? [], opts.env)) {
    const { line, col } = texts.get(gap.where.file)!.locate(gap.where.doc, gap.where.pointer);
    const missing = gap.missingIn.map((n) => `"${n}"`).join(', ');
    results.push({
      file: gap.where.file,
      line,
      col,
      path: gap.path,
      keyword: 'parity',
      severity: 'error',
      message: `missing in environment${gap.missingIn.length > 1 ? 's' : ''} ${missing} (present in ${gap.presentIn.map((n) => `"${n}"`).join(', ')})`,
    });
  }
  return report('parity', checked, results);
}

/**
 * The report as `validate` prints it: one line per result (as GitHub Actions annotations with
 * `github`; notes only with `notes`), and the summary line.
 */
export function validateReportText(
  report: ValidateReport,
  opts: { github: boolean; notes: boolean },
): { lines: string[]; summary: string } {
  return {
    lines: report.results
      .filter((r) => opts.notes || r.severity !== 'note')
      .map((r) => (opts.github ? githubLine(r) : humanLine(r))),
    summary: summaryLine(report.results, report.files.length),
  };
}
