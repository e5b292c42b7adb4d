/**
 * `sealant guard`: the pre-commit check. Judges what the index is about to commit — never the
 * work tree — without keys or network, and reports every way the commit would leak a secret:
 * a file an environment owns that is not encrypted, a file encrypted in HEAD that is staged in
 * clear (decrypted in place, wherever it lives), a value the encryption rule or the schema
 * (`x-sealant-secret`) wants encrypted that is in clear text, broken `sops` metadata, a `sops`
 * block weaker than the environment that owns the file (`checks/authority.ts`), and plaintext
 * that `sealant render` produced (see `guard-rendered.ts` for that heuristic).
 * Results name files, lines, key paths and checks; never a value.
 */
import { resolve } from 'node:path';
import { formatPath, SealantError } from '../errors.js';
import { environmentFor, loadProjectConfig } from '../config/index.js';
import { filesOf } from './config-files.js';
import type { EnvironmentConfig, ProjectConfig } from '../config/model.js';
import { visitDocuments } from '../format/cipher.js';
import { isEncValue } from '../format/codec.js';
import { DEFAULT_CRYPT_RULE, Selector } from '../format/selectors.js';
import type { TreePath } from '../format/tree.js';
import { readBlobs, repoTopLevel, stagedChanges, type StagedFile } from '../git/staged.js';
import { authorityFindings, sameProtection } from '../checks/authority.js';
import type { SopsMetadata } from '../format/metadata.js';
import { readSide } from '../review/semantic.js';
import { formatFromPath, sopsBlockOf } from '../stores/index.js';
import { changedMessage } from './authority.js';
import { envVars } from '../render/dotenv.js';
import { flattenTree } from '../render/values.js';
import { SchemaSet } from '../schema/ajv.js';
import { buildInstance, escapePointer, pointerToPath, type BuiltInstance } from '../schema/instance.js';
import { validateKeyless } from '../schema/keyless.js';
import { Locator } from '../schema/locate.js';
import type { StoreDocument } from '../stores/store.js';
import { decodeUtf8, utf8Text } from '../util/utf8.js';
import type { OpsContext } from './context.js';
import { asEncrypted, loadDocument, type EncryptedDocument } from '../document/document.js';
import { readText } from './read.js';
import { decryptedName, renderedDotenv, renderedSecrets, renderedTree, type RenderedNames } from './guard-rendered.js';
import { schemaPathFor } from './validate.js';

/** What a result is about (part of the `--json` API). */
export type GuardCheck =
  | 'unencrypted-file'
  | 'decrypted-in-place'
  | 'clear-value'
  | 'secret-in-clear'
  | 'sops-metadata'
  | 'weakened-metadata'
  | 'added-recipient'
  | 'rendered-output'
  | 'decrypted-name'
  | 'config';

/** One problem in the staged content (part of the `--json` API). */
export interface GuardResult {
  /** Path relative to the repository root, as git names it. */
  file: string;
  /** 1-based line in the staged text, when known. */
  line?: number;
  /** Key path (`db.password`), when the problem is one value. */
  path?: string;
  check: GuardCheck;
  /** `warning` does not block the commit (a suspicious name without suspicious content). */
  severity: 'error' | 'warning';
  message: string;
}

/** What `guard` found (the `--json` result). */
export interface GuardReport {
  /** Staged files checked, relative to the repository root. */
  files: string[];
  errors: number;
  warnings: number;
  results: GuardResult[];
}

export interface GuardOptions {
  /** Top directory of the work tree (what `git rev-parse --show-toplevel` prints); default: the one `ctx.cwd` is in. */
  repoDir?: string;
}

/** Larger staged files are not inspected for rendered output (rendered files are small). */
const MAX_INSPECT_BYTES = 1 << 20;

/** A staged blob, parsed at most once (on first ask). */
interface Staged {
  file: StagedFile;
  bytes: Buffer;
  parsed: () => StoreDocument | GuardResult;
}

interface Run {
  ctx: OpsContext;
  repoDir: string;
  config: ProjectConfig | undefined;
  schemas: SchemaSet;
  names: () => Promise<RenderedNames[]>;
  /** The metadata of HEAD's version of a staged file (by HEAD path), if it has a `sops` block; read on first ask. */
  headMetadata: (headPath: string) => SopsMetadata | undefined;
  /** SOPS files of HEAD the commit deletes (a rename git could not pair, e.g. moved and decrypted); read on first ask. */
  deletedEncrypted: () => { path: string; keys: Set<string> }[];
}

/**
 * Checks the content staged in the index of the repository at `opts.repoDir` (default: the one `ctx.cwd` is in).
 * @returns every problem found; an empty `results` means the commit is safe to make.
 * @throws GitError when git cannot list or read the index (or `ctx.cwd` is in no work tree); ConfigError/ReadError when the
 * project config is invalid or unreadable; SchemaConfigError when an environment's schema file
 * is missing or does not compile.
 */
export async function guardStaged(ctx: OpsContext, opts: GuardOptions = {}): Promise<GuardReport> {
  const repoDir = opts.repoDir ?? (await repoTopLevel(ctx.cwd, ctx.env));
  const git = { repoDir, env: ctx.env };
  const { files: staged, deleted } = await stagedChanges(git);
  const config = await loadProjectConfig({ cwd: repoDir, env: ctx.env });
  const heads = staged.flatMap((s) => (s.head === undefined ? [] : [s.head]));
  const all = await readBlobs(
    [...staged.map((s) => s.blob), ...heads.map((h) => h.blob), ...deleted.map((d) => d.blob)],
    git,
  );
  const blobs = all.slice(0, staged.length);
  const headBlobs = new Map(heads.map((h, i) => [h.path, all[staged.length + i]!]));
  const headMetadata = new Map<string, SopsMetadata | undefined>();
  const run: Run = {
    ctx,
    repoDir,
    config,
    schemas: new SchemaSet(),
    names: once(() => ownedNames(config)),
    headMetadata: (path) => {
      if (!headMetadata.has(path)) headMetadata.set(path, sopsMetadataOf(headBlobs.get(path), path));
      return headMetadata.get(path);
    },
    deletedEncrypted: onceSync(() =>
      deleted.flatMap((d, i) => {
        const bytes = all[staged.length + heads.length + i]!;
        return sopsMetadataOf(bytes, d.path) === undefined ? [] : [{ path: d.path, keys: keyPaths(bytes, d.path) }];
      }),
    ),
  };
  const results: GuardResult[] = [];
  for (const [i, file] of staged.entries()) {
    const bytes = blobs[i]!;
    results.push(...(await checkStaged(run, { file, bytes, parsed: onceSync(() => parse(file.path, bytes)) })));
  }
  const errors = results.filter((r) => r.severity === 'error').length;
  return { files: staged.map((s) => s.path), errors, warnings: results.length - errors, results };
}

function once<T>(factory: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= factory());
}

function onceSync<T>(factory: () => T): () => T {
  let done = false;
  let value: T;
  return () => {
    if (!done) [value, done] = [factory(), true];
    return value;
  };
}

function result(
  file: string,
  check: GuardCheck,
  message: string,
  at: { line?: number; path?: string } = {},
  severity: GuardResult['severity'] = check === 'decrypted-name' ? 'warning' : 'error',
): GuardResult {
  return { file, ...at, check, severity, message };
}

/** The metadata of a blob that is a SOPS file in the format its path implies; undefined for anything else. */
function sopsMetadataOf(bytes: Buffer | undefined, path: string): SopsMetadata | undefined {
  const block = bytes === undefined ? undefined : sopsBlockOf(bytes, formatFromPath(path));
  return block?.kind === 'sops' ? block.meta : undefined;
}

/** The key paths of a YAML/JSON/dotenv/INI blob, encrypted or not (empty for binary or unreadable files). */
function keyPaths(bytes: Buffer, path: string): Set<string> {
  const format = formatFromPath(path);
  if (format === 'binary') return new Set();
  try {
    return new Set(readSide(bytes, path, format).leaves.keys());
  } catch {
    return new Set();
  }
}

/** No `sops` block; a file that does not parse counts unless it still holds ENC values (then `sops-metadata` reports it). */
function inClear(staged: Staged): boolean {
  const enc = staged.bytes.includes('ENC[AES256_GCM,');
  if (!enc && !staged.bytes.includes('sops')) return true; // no block, whether or not it parses
  const doc = staged.parsed();
  return 'documents' in doc ? doc.metadata === undefined : !enc;
}

/**
 * A file that HEAD has encrypted (at this path, or at the path git paired it with as a rename,
 * or a deleted SOPS file with exactly its key paths) and that is staged without a `sops` block:
 * `sealant decrypt -i` followed by `git commit -a`. Keyless, wherever the file lives.
 */
function decryptedInPlace(run: Run, staged: Staged): GuardResult | undefined {
  const { file, bytes } = staged;
  // HEAD is only read for a file staged in clear.
  const candidate = () =>
    file.head !== undefined ? run.headMetadata(file.head.path) !== undefined : run.deletedEncrypted().length > 0;
  if (!inClear(staged) || !candidate()) return undefined;
  const fix = `re-encrypt it (sealant encrypt -i ${file.path}) or unstage it (git restore --staged ${file.path})`;
  if (file.head !== undefined) {
    const where = file.head.path === file.path ? 'is encrypted in HEAD' : `was ${file.head.path}, encrypted in HEAD,`;
    return result(file.path, 'decrypted-in-place', `${where} but is staged in clear text (no sops metadata): ${fix}`, {
      line: 1,
    });
  }
  const keys = keyPaths(bytes, file.path);
  const twin =
    keys.size === 0
      ? undefined
      : run.deletedEncrypted().find((d) => d.keys.size === keys.size && [...keys].every((k) => d.keys.has(k)));
  if (twin === undefined) return undefined;
  return result(
    file.path,
    'decrypted-in-place',
    `has the keys of ${twin.path}, encrypted in HEAD and deleted by this commit, but is staged in clear text (no sops metadata): ${fix}`,
    { line: 1 },
  );
}

/**
 * The environment owning `abs`. A `.sops.yaml` creation rule without `path_regex` matches
 * every file; it says how to encrypt, not that every file of the repository must be.
 * @throws ConfigError when a `.sealant.yaml` file matches two environments.
 */
function ownerOf(config: ProjectConfig | undefined, abs: string, repoDir: string): EnvironmentConfig | undefined {
  if (config === undefined) return undefined;
  const env = environmentFor(config, abs, repoDir);
  return config.kind === 'sops' && env?.pathRegex === undefined ? undefined : env;
}

async function checkStaged(run: Run, staged: Staged): Promise<GuardResult[]> {
  const { file, bytes } = staged;
  const abs = resolve(run.repoDir, file.path);
  if (abs === run.config?.path) return [];
  const out: GuardResult[] = [];
  if (decryptedName(file.path))
    out.push(
      result(file.path, 'decrypted-name', 'the name says decrypted output: make sure it holds no plaintext secret'),
    );
  let env: EnvironmentConfig | undefined;
  let authority: EnvironmentConfig | undefined;
  try {
    env = ownerOf(run.config, abs, run.repoDir);
    // A catch-all `.sops.yaml` rule does not require encryption, but it is what a SOPS file it
    // matches must be encrypted with.
    authority = env ?? (run.config === undefined ? undefined : environmentFor(run.config, abs, run.repoDir));
  } catch (e) {
    if (!(e instanceof SealantError)) throw e;
    return [...out, result(file.path, 'config', e.message)];
  }
  const decrypted = decryptedInPlace(run, staged);
  if (decrypted !== undefined) return [...out, decrypted];
  const text = utf8Text(bytes);
  if (text === undefined && formatFromPath(file.path) !== 'binary') {
    // No SOPS tool reads a text file that is not UTF-8, and a lenient decode would make two
    // different files look alike: a file that must be (or looks like) a SOPS file is a finding.
    const problem = notUtf8(file.path, bytes, env);
    if (problem !== undefined) return [...out, problem];
  }
  // The rendered-output heuristics still scan a non-UTF-8 blob: they only look for leaks.
  const lenient = text ?? bytes.toString('utf8');
  out.push(
    ...(env === undefined
      ? await checkUnowned(run, staged, lenient, authority)
      : await checkOwned(run, staged, lenient, env)),
  );
  return out;
}

/**
 * The finding for staged bytes that are not UTF-8 in a text format (`.yaml`, `.json`, `.env`,
 * `.ini`): the file an environment owns, or any file holding ENC values. Undefined otherwise.
 */
function notUtf8(file: string, bytes: Buffer, env: EnvironmentConfig | undefined): GuardResult | undefined {
  const sopsLike = bytes.includes('ENC[AES256_GCM,');
  if (env === undefined && !sopsLike) return undefined;
  let why = 'not valid UTF-8 text';
  let line: number | undefined;
  try {
    decodeUtf8(bytes, file);
  } catch (e) {
    if (!(e instanceof SealantError)) throw e;
    why = e.message;
    line = e.line;
  }
  const at = line === undefined ? {} : { line };
  if (sopsLike) return result(file, 'sops-metadata', `${why}: no SOPS tool can read this file`, at);
  return result(
    file,
    'unencrypted-file',
    `environment "${env!.name}" owns this file but it is not a SOPS file (${why})`,
    at,
  );
}

/**
 * Parses staged content (bytes: the binary store keeps them, text stores need UTF-8); a parse
 * error becomes a value-free result (parser messages may quote the line).
 */
function parse(file: string, content: string | Buffer): StoreDocument | GuardResult {
  try {
    return loadDocument(content, file);
  } catch (e) {
    if (!(e instanceof SealantError)) throw e;
    return result(file, 'sops-metadata', 'file cannot be parsed', e.line === undefined ? {} : { line: e.line });
  }
}

async function checkOwned(run: Run, staged: Staged, text: string, env: EnvironmentConfig): Promise<GuardResult[]> {
  const file = staged.file.path;
  const doc = staged.parsed();
  if (!('documents' in doc)) return [doc];
  if (doc.metadata === undefined)
    return [
      result(
        file,
        'unencrypted-file',
        `environment "${env.name}" owns this file but it is not encrypted (no sops metadata)`,
        { line: 1 },
      ),
    ];
  return checkEncrypted(run, staged.file, text, doc, env, env);
}

/**
 * Unowned files: a SOPS file still gets its own checks (and `authority`'s, when a catch-all
 * `.sops.yaml` rule matches it); anything else is looked at for rendered output.
 */
async function checkUnowned(
  run: Run,
  staged: Staged,
  text: string,
  authority: EnvironmentConfig | undefined,
): Promise<GuardResult[]> {
  const { file: stagedFile, bytes } = staged;
  const file = stagedFile.path;
  if (bytes.length > MAX_INSPECT_BYTES || bytes.subarray(0, 8000).includes(0)) return [];
  const found = renderedSecrets(text).map((h) => result(file, 'rendered-output', h.message, { line: h.line }));
  const structured = file.endsWith('.yaml') || file.endsWith('.yml') || file.endsWith('.json');
  const doc = structured || file.endsWith('.env') ? staged.parsed() : undefined;
  if (doc !== undefined && 'documents' in doc && doc.metadata !== undefined)
    return [...found, ...(await checkEncrypted(run, stagedFile, text, doc, undefined, authority))];
  if (found.length > 0) return found;
  // Only a file that could be a rendered form pays for reading the environments' key names.
  if (countAssignments(text) >= 3)
    found.push(
      ...renderedDotenv(text, await run.names()).map((h) =>
        result(file, 'rendered-output', h.message, { line: h.line }),
      ),
    );
  if (found.length === 0 && structured && doc !== undefined && 'documents' in doc)
    found.push(
      ...renderedTree(doc, await run.names()).map((h) => result(file, 'rendered-output', h.message, { line: h.line })),
    );
  return found;
}

function countAssignments(text: string): number {
  return text.match(/^[ \t]*(?:export[ \t]+)?[A-Za-z_][A-Za-z0-9_]*[ \t]*=/gm)?.length ?? 0;
}

/**
 * The checks of a file with a `sops` block: metadata, ENC values, clear values, schema secrets;
 * against `authority` (the environment whose rule and recipients the file must have) a weaker
 * rule or a recipient it does not name; without one, a rule changed since HEAD (a warning).
 */
async function checkEncrypted(
  run: Run,
  staged: StagedFile,
  text: string,
  doc: StoreDocument,
  env: EnvironmentConfig | undefined,
  authority: EnvironmentConfig | undefined,
): Promise<GuardResult[]> {
  const file = staged.path;
  let enc: EncryptedDocument;
  try {
    enc = asEncrypted(doc);
  } catch (e) {
    if (!(e instanceof SealantError)) throw e;
    return [result(file, 'sops-metadata', `invalid sops metadata: ${e.message}`)];
  }
  const missing = metadataProblem(enc);
  if (missing !== undefined) return [result(file, 'sops-metadata', missing)];
  const locator = new Locator(text, doc.format);
  const at = (d: number, path: TreePath) => ({ line: locator.locate(d, pointerOf(path)).line, path: formatPath(path) });
  const built = doc.documents.map((d) => buildInstance(d));
  const out: GuardResult[] = authorityResults(run, staged, enc.meta, authority);
  built.forEach((b, d) => {
    for (const path of b.malformed)
      out.push(result(file, 'sops-metadata', 'malformed ENC value (unknown type or bad encoding)', at(d, path)));
  });
  for (const { doc: d, path, rule } of clearSelected(doc, selectorsFor(enc, env))) {
    out.push(
      result(file, 'clear-value', `value is in clear text but the encryption rule (${rule}) selects it`, at(d, path)),
    );
  }
  if (env !== undefined) out.push(...(await secretFindings(run, file, doc, env, built, locator, out)));
  return out;
}

/** Keyless metadata-authority results: weaker than the owning environment, or (unowned) than HEAD. */
function authorityResults(
  run: Run,
  staged: StagedFile,
  meta: SopsMetadata,
  authority: EnvironmentConfig | undefined,
): GuardResult[] {
  if (authority !== undefined) {
    return authorityFindings(meta, authority).map((f) =>
      result(staged.path, f.kind === 'added-recipient' ? 'added-recipient' : 'weakened-metadata', f.message),
    );
  }
  const before = staged.head === undefined ? undefined : run.headMetadata(staged.head.path);
  const now = { rule: meta.rule, macOnlyEncrypted: meta.macOnlyEncrypted };
  if (before === undefined || sameProtection(now, { rule: before.rule, macOnlyEncrypted: before.macOnlyEncrypted }))
    return [];
  // No config owns the file: its own metadata decides (as in SOPS), so this only warns.
  return [result(staged.path, 'weakened-metadata', changedMessage(now, before), {}, 'warning')];
}

/**
 * What `parseMetadata` lets through but decryption would refuse: SOPS fails without a MAC
 * (MacNotFound) and needs `lastmodified` as the MAC's AAD; `version` says which SOPS wrote it.
 */
function metadataProblem(enc: EncryptedDocument): string | undefined {
  if (enc.meta.mac === '') return 'sops metadata has no mac';
  if (!isEncValue(enc.meta.mac)) return 'sops mac is not an ENC value';
  if (enc.meta.version === '') return 'sops metadata has no version';
  if (enc.meta.lastmodified === '') return 'sops metadata has no lastmodified';
  return undefined;
}

function pointerOf(path: TreePath): string {
  return path.map((s) => `/${escapePointer(s)}`).join('');
}

/** The environment's rule (what the file should use) and the file's own (what decrypt will use). */
function selectorsFor(enc: EncryptedDocument, env: EnvironmentConfig | undefined): Selector[] {
  const own = enc.selector;
  if (env === undefined) return [own];
  const want = env.rule ?? DEFAULT_CRYPT_RULE;
  return want.field === own.rule.field && want.value === own.rule.value ? [own] : [new Selector(want), own];
}

/** Leaves some selector selects that hold a clear, non-empty value (SOPS never encrypts "" or null). */
function clearSelected(
  doc: StoreDocument,
  selectors: readonly Selector[],
): { doc: number; path: TreePath; rule: string }[] {
  const out: { doc: number; path: TreePath; rule: string }[] = [];
  doc.documents.forEach((d, i) => {
    for (const v of visitDocuments([d])) {
      if (v.node.kind !== 'scalar') continue;
      const value = v.node.value;
      if (value.type === 'null' || (value.type === 'str' && (value.value === '' || value.value.startsWith('ENC['))))
        continue;
      const s = selectors.find((sel) => sel.shouldEncrypt(v.keys, v.stack, false));
      if (s !== undefined) out.push({ doc: i, path: v.path, rule: `${s.rule.field}: ${s.rule.value}` });
    }
  });
  return out;
}

/** `x-sealant-secret` values in clear text, from the keyless validator (other schema errors are `validate`'s job). */
async function secretFindings(
  run: Run,
  file: string,
  doc: StoreDocument,
  env: EnvironmentConfig,
  built: BuiltInstance[],
  locator: Locator,
  already: readonly GuardResult[],
): Promise<GuardResult[]> {
  if (run.config === undefined || doc.format === 'binary') return [];
  const schema = schemaPathFor(run.config, env, resolve(run.repoDir, file));
  if (schema === undefined) return [];
  const validate = await run.schemas.get(resolve(run.config.root, schema), schema);
  const seen = new Set(already.map((r) => r.path));
  const out: GuardResult[] = [];
  doc.documents.forEach((d, i) => {
    for (const f of validateKeyless(validate, d, i, built[i])) {
      if (f.keyword !== 'x-sealant-secret') continue;
      const path = formatPath(pointerToPath(built[i]!.low, f.pointer));
      if (seen.has(path)) continue;
      seen.add(path);
      out.push(
        result(file, 'secret-in-clear', 'the schema marks this value x-sealant-secret but it is in clear text', {
          line: locator.locate(i, f.at).line,
          path,
        }),
      );
    }
  });
  return out;
}

/**
 * Variable names and key paths of every environment, from the encrypted files in the work tree
 * (key names are in clear in SOPS files, so no key is needed). Unreadable files are skipped:
 * this only feeds a heuristic.
 */
async function ownedNames(config: ProjectConfig | undefined): Promise<RenderedNames[]> {
  if (config === undefined) return [];
  const out: RenderedNames[] = [];
  for (const env of config.environments) {
    if (config.kind === 'sops' && env.pathRegex === undefined) continue;
    const envNames = new Set<string>();
    const keyPaths = new Set<string>();
    for (const abs of await filesOf(config, env).catch(() => [])) {
      try {
        for (const d of loadDocument(await readText(abs), abs).documents) {
          for (const [, , key] of flattenTree(d)) keyPaths.add(key);
          for (const [name] of envVars(d, env.render?.dotenv)) envNames.add(name);
        }
      } catch {
        // A file that does not load (or whose names collide) contributes nothing.
      }
    }
    out.push({ environment: env.name, envNames, keyPaths });
  }
  return out;
}
