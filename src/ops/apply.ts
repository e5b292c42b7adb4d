/**
 * `sealant apply`: carries out a {@link Plan}. Every file is checked against its planned digest,
 * and every new file text is computed in memory (rewrap, new data key, new values) before
 * anything is written; then all files are replaced together ({@link writeFilesAtomic}).
 * New values come from the CSPRNG (`x-sealant-generate`) or from `--value PATH=@FILE` / `=-`,
 * never from a command-line literal.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { formatPath, SchemaViolationError, SealantError, UsageError, type SealantErrorOptions } from '../errors.js';
import type { EnvironmentConfig, ProjectConfig } from '../config/model.js';
import { replaceKeyGroups } from '../format/metadata.js';
import { rekeyDocument } from './rotate.js';
import { getAtPath, parseTreePath, setAtPath } from '../format/paths.js';
import { cloneNode, scalar, toPlain, type MapNode } from '../format/tree.js';
import { SchemaSet } from '../schema/ajv.js';
import { validateDecrypted } from '../schema/decrypted.js';
import { schemaTypesFor } from '../schema/generate.js';
import { leafIndexOf, pointerToPath } from '../schema/instance.js';
import { writeFilesAtomic } from '../fsx/batch.js';
import { unwrapDataKey, wrapDataKey, type KeySources } from '../keys/datakey.js';
import type { Plan, PlanConfigEdit, PlanFile, RecipientRemoval } from '../plan/model.js';
import type { OpsContext } from './context.js';
import { openDocument, type OpenedDocument } from '../document/document.js';
import { inFile } from './read.js';
import { generateValue } from './generate.js';
import { configDiff, digestOf, removeOffboarded } from './plan.js';
import { refuseUnsupportedKeys } from './encrypt.js';
import { sealDocument } from '../document/seal.js';
import { resolveTargets } from './targets.js';
import { compiledSchemaFor } from './validate.js';
import { typedReplacement } from './value.js';
import { groupNames } from '../keys/recipients.js';
import { loadForWrite } from './authority.js';
import { redactedDiff } from '../plan/render.js';
import { readSide, type Side } from '../review/semantic.js';
import { formatFromPath } from '../stores/index.js';
import { decodeUtf8 } from '../util/utf8.js';

/** A file changed since the plan was made: plan again. */
export class StalePlanError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('STALE_PLAN', message, options);
  }
}

/** Where a `--value` comes from. */
export interface ValueInput {
  /** Only for this file (`FILE#PATH=…`); else every planned file with this key path. */
  file?: string;
  path: string;
  from: { kind: 'file'; path: string } | { kind: 'stdin' } | { kind: 'prompt' };
}

/**
 * Parses `PATH=@FILE`, `PATH=-`, optionally prefixed `FILE#`.
 * @throws UsageError for anything else — in particular a literal value, which would end up in
 * shell history and process listings.
 */
export function parseValueFlag(text: string): ValueInput {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError('--value must be PATH=@FILE or PATH=-');
  const [target, source] = [text.slice(0, eq), text.slice(eq + 1)];
  const hash = target.lastIndexOf('#');
  const out: ValueInput = { path: hash === -1 ? target : target.slice(hash + 1), from: { kind: 'stdin' } };
  if (hash !== -1) out.file = target.slice(0, hash);
  // `@-` is the file `-`, which means stdin like everywhere else.
  if (source === '-' || source === '@-') return out;
  if (source.startsWith('@') && source.length > 1) return { ...out, from: { kind: 'file', path: source.slice(1) } };
  throw new UsageError(
    '--value takes the value from a file (PATH=@FILE) or stdin (PATH=-), never from the command line',
    { hint: 'write the value to a private file, or pipe it in' },
  );
}

/**
 * Checks that `data` is a version-1 plan (the shape `sealant plan --out` writes).
 * @throws UsageError when it is not.
 */
export function parsePlan(data: unknown): Plan {
  const p = data as Partial<Plan> | null;
  if (p === null || typeof p !== 'object' || p.version !== 1 || !Array.isArray(p.files))
    throw new UsageError('not a sealant plan (version 1)', { hint: 'create one with `sealant plan --out plan.json`' });
  for (const f of p.files) {
    if (
      typeof f.file !== 'string' ||
      typeof f.digest !== 'string' ||
      !Array.isArray(f.actions) ||
      !Array.isArray(f.values)
    )
      throw new UsageError('malformed plan entry', { file: String(f.file) });
  }
  const c = p.config as Partial<PlanConfigEdit> | undefined;
  if (
    c !== undefined &&
    (c === null ||
      typeof c.file !== 'string' ||
      typeof c.digest !== 'string' ||
      typeof c.expectedDiff !== 'string' ||
      !Array.isArray(c.removeRecipients) ||
      !c.removeRecipients.every((r) => typeof r?.environment === 'string' && typeof r.recipient === 'string'))
  ) {
    throw new UsageError('malformed config edit in the plan', {
      hint: 'create the plan again with `sealant plan --out plan.json`',
    });
  }
  return p as Plan;
}

export interface ApplyOptions {
  sources: KeySources;
  dryRun?: boolean;
  values?: readonly ValueInput[];
  /** Reads stdin (once) for `PATH=-`. */
  readStdin?: () => Promise<string>;
  /**
   * Asks for a value no `--value` gives and no generator can make (a hidden prompt on a TTY).
   * Without it such a value is an error.
   */
  prompt?: (file: string, path: string) => Promise<string>;
  configPath?: string;
}

export interface ApplyFileResult {
  file: string;
  actions: PlanFile['actions'];
  /** Key paths that got a new value, and how. */
  values: { path: string; source: 'generated' | 'input' }[];
}

export interface ApplyResult {
  dryRun: boolean;
  files: ApplyFileResult[];
  /** The offboarded recipients removed from the config (written before the files). */
  config?: { file: string; removed: RecipientRemoval[] };
  /** `--dry-run`: unified diff of the encrypted files. */
  diff?: string;
}

/** One trailing newline is dropped: editors and `echo` add it, secrets rarely mean it. */
const chomp = (s: string) => s.replace(/\r?\n$/, '');

async function readInputs(
  inputs: readonly ValueInput[],
  ctx: OpsContext,
  opts: ApplyOptions,
): Promise<Map<ValueInput, string>> {
  const out = new Map<ValueInput, string>();
  if (inputs.filter((i) => i.from.kind === 'stdin').length > 1) throw new UsageError('only one --value may read stdin');
  for (const i of inputs) {
    if (i.from.kind === 'stdin') {
      if (opts.readStdin === undefined) throw new UsageError('stdin is not available for --value PATH=-');
      out.set(i, chomp(await opts.readStdin()));
    } else if (i.from.kind === 'file') {
      const from = i.from.path;
      const bytes = await readFile(resolve(ctx.cwd, from)).catch(() => {
        throw new UsageError(`cannot read the --value file for ${i.path}`, { file: from });
      });
      out.set(i, chomp(decodeUtf8(bytes, from)));
    }
  }
  return out;
}

/** Fills in, through `opts.prompt`, the values that must be supplied and were not. */
async function promptMissing(plan: Plan, inputs: Map<ValueInput, string>, opts: ApplyOptions): Promise<void> {
  if (opts.prompt === undefined) return;
  for (const f of plan.files) {
    for (const v of f.values) {
      const given = [...inputs.keys()].some((i) => i.path === v.path && (i.file === undefined || i.file === f.file));
      if (given || v.generate !== undefined) continue;
      inputs.set({ file: f.file, path: v.path, from: { kind: 'prompt' } }, await opts.prompt(f.file, v.path));
    }
  }
}

function newValueFor(
  f: PlanFile,
  path: string,
  inputs: Map<ValueInput, string>,
): { value: string; source: 'generated' | 'input' } {
  const v = f.values.find((x) => x.path === path)!;
  const given = [...inputs].find(([i]) => i.path === path && (i.file === undefined || i.file === f.file));
  if (given !== undefined) return { value: given[1], source: 'input' };
  if (v.generate !== undefined) return { value: generateValue(v.generate), source: 'generated' };
  throw new UsageError(`no new value for ${path}`, {
    file: f.file,
    hint: `give one with --value '${path}=@FILE' (or =- for stdin)`,
  });
}

function setValues(
  opened: OpenedDocument,
  f: PlanFile,
  inputs: Map<ValueInput, string>,
  schema: unknown,
): ApplyFileResult['values'] {
  return f.values.map((v) => {
    const path = parseTreePath(v.path);
    const existing = getAtPath(opened.doc.documents, path);
    const current = existing?.kind === 'scalar' ? existing : undefined;
    const { value, source } = newValueFor(f, v.path, inputs);
    const typed = typedReplacement(
      value,
      path,
      current?.value,
      schema === undefined ? undefined : schemaTypesFor(schema, path),
    );
    // A quoting style is kept only for a value of the same type: a quoted int would read back as a string.
    setAtPath(
      opened.doc.documents[0]!,
      path,
      scalar(typed, current?.value.type === typed.type ? current.style : undefined),
    );
    return { path: v.path, source };
  });
}

/**
 * Refuses a result whose values break the file's schema. `decrypted` is the documents with their
 * new values before sealing; `sealed` the same documents encrypted, which say (for
 * `x-sealant-secret`) what the written file will hold encrypted.
 * @throws SchemaViolationError listing key paths and rules, never values.
 */
function refuseInvalid(validate: ValidateFunction, decrypted: readonly MapNode[], sealed: readonly MapNode[]): void {
  const problems = decrypted.flatMap((d, i) =>
    validateDecrypted(validate, d, i, leafIndexOf(sealed[i]!)).map((finding) => {
      const path = formatPath(pointerToPath(toPlain(d), finding.pointer));
      return `${path === '' ? '(root)' : path}: ${finding.message}`;
    }),
  );
  if (problems.length > 0) {
    throw new SchemaViolationError(
      `the new values do not satisfy the schema, so nothing was written: ${problems.join('; ')}`,
      { hint: 'give values the schema accepts (--value PATH=@FILE), or fix the schema' },
    );
  }
}

async function wrapFor(
  env: EnvironmentConfig,
  dataKey: Uint8Array,
  opened: { doc: OpenedDocument['doc']; meta: OpenedDocument['meta'] },
  sources: KeySources,
  keepStanzas: boolean,
): Promise<void> {
  const reuse = keepStanzas && opened.meta.keyGroups.length === 1 ? opened.meta.keyGroups[0] : undefined;
  const wrapped = await wrapDataKey(dataKey, env.groups, env.shamirThreshold, sources, reuse);
  replaceKeyGroups(
    opened.doc.metadata!,
    wrapped,
    env.groups.length > 1 ? (env.shamirThreshold ?? env.groups.length) : undefined,
  );
}

/** The new text of one file (nothing written). */
async function computeFile(
  f: PlanFile,
  env: EnvironmentConfig,
  text: string,
  ctx: OpsContext,
  opts: ApplyOptions,
  inputs: Map<ValueInput, string>,
  schema: ValidateFunction | undefined,
): Promise<{ text: string; values: ApplyFileResult['values'] }> {
  refuseUnsupportedKeys(env);
  const rotateKey = f.actions.includes('rotate-data-key');
  const rewraps = rotateKey || f.values.length === 0 || f.actions.includes('rewrap');
  // The environment as the plan's config edit leaves it, not as the config file still says.
  const enc = await loadForWrite(text, f.file, ctx, {
    stanzas: rewraps ? 'replaced' : 'kept',
    owner: { environment: env },
  });
  if (!rotateKey && f.values.length === 0) {
    // Rewrap only, as `updatekeys`: values, mac and lastmodified stay.
    const { dataKey } = await unwrapDataKey(enc.meta, opts.sources);
    await wrapFor(env, dataKey, enc, opts.sources, true);
    return { text: enc.doc.serialize(), values: [] };
  }
  const opened = await openDocument(enc, opts.sources);
  const values = setValues(opened, f, inputs, schema?.schema);
  const check =
    schema !== undefined && values.length > 0 && opened.doc.format !== 'binary'
      ? opened.doc.documents.map((d) => cloneNode(d))
      : undefined;
  if (!rotateKey) {
    sealDocument(opened, text, ctx.now());
    if (f.actions.includes('rewrap')) await wrapFor(env, opened.dataKey, opened, opts.sources, true);
  } else {
    // A new data key: every ciphertext changes, exactly as `rotate` does it.
    await rekeyDocument(opened, env, opts.sources, ctx.now());
  }
  if (check !== undefined) refuseInvalid(schema!, check, opened.doc.documents);
  return { text: opened.doc.serialize(), values };
}

/** The config as the plan's edit leaves it. @throws StalePlanError, PlanMismatchError. */
async function replayConfigEdit(
  edit: PlanConfigEdit,
  config: ProjectConfig,
  ctx: OpsContext,
): Promise<{ config: ProjectConfig; write: { file: string; data: string; before: string } }> {
  const stale = (message: string) => new StalePlanError(message, { file: edit.file, hint: 'run `sealant plan` again' });
  if (config.kind !== 'sealant' || resolve(ctx.cwd, edit.file) !== config.path)
    throw stale('the plan edits another config file than the one in use');
  const bytes = await readFile(config.path).catch(() => undefined);
  if (bytes === undefined || digestOf(bytes) !== edit.digest) throw stale('config changed since the plan was made');
  const before = decodeUtf8(bytes, edit.file);
  const edited = removeOffboarded(before, config.path, edit.file, edit.removeRecipients);
  if (configDiff(edit.file, before, edited.text) !== edit.expectedDiff) throw new PlanMismatchError(edit.file);
  return { config: edited.config, write: { file: config.path, data: edited.text, before } };
}

async function environmentsOf(
  plan: Plan,
  ctx: OpsContext,
  opts: ApplyOptions,
): Promise<{
  config: ProjectConfig;
  envs: Map<string, EnvironmentConfig>;
  configWrite?: { file: string; data: string; before: string };
}> {
  const { config, targets } = await resolveTargets(ctx, {
    files: plan.files.map((f) => f.file),
    ...(opts.configPath === undefined ? {} : { configPath: opts.configPath }),
    requireEnvironment: true,
  });
  const edited = plan.config === undefined ? undefined : await replayConfigEdit(plan.config, config!, ctx);
  // Files are rewrapped for the config as the plan leaves it: without the offboarded recipients.
  const effective = edited?.config ?? config!;
  const envs = new Map<string, EnvironmentConfig>();
  // Iterating the plan's files, not the targets: with no files, resolveTargets lists the whole project.
  for (const [i, f] of plan.files.entries()) {
    const t = targets[i]!;
    if (t.environment!.name !== f.environment)
      throw new StalePlanError(`now belongs to environment "${t.environment!.name}", planned for "${f.environment}"`, {
        file: f.file,
        hint: 'run `sealant plan` again',
      });
    envs.set(
      f.file,
      effective.environments.find((e) => e.name === f.environment)!,
    );
  }
  return { config: effective, envs, ...(edited === undefined ? {} : { configWrite: edited.write }) };
}

/**
 * Applies `plan`: all files or none.
 * @throws StalePlanError (exit 2) when a file's bytes or environment changed since the plan;
 * UsageError for a missing/unreadable `--value` or a value with no generator; SealantError
 * INVALID_SET_VALUE (7) for a value that is not of its key's type; SchemaViolationError (1) when
 * the new values break the file's schema (nothing written); NoKeyError (128)
 * when no identity opens a file; MacMismatchError (51); WriteError (3) when a file cannot be
 * replaced (then no file changed, except in the window documented in `fsx/batch.ts`).
 */
/**
 * What apply really produced, in the plan's redacted form, read from the file's text before and
 * after (no key needed): recipients from the metadata; a new data key when the stanza of a
 * recipient present on both sides changed; per key path whether its stored form stayed, got a
 * new value (`setPaths`) or was only re-encrypted.
 */
export function observedDiff(file: string, before: string, after: string, setPaths: ReadonlySet<string>): string {
  const format = formatFromPath(file);
  const a = readSide(before, file, format);
  const b = readSide(after, file, format);
  const recipients = (side: Side) => (side.meta?.keyGroups ?? []).flatMap(groupNames);
  const stanzas = (side: Side) =>
    new Map(
      (side.meta?.keyGroups ?? []).flatMap((g) => [
        ...g.age.map((s) => [s.recipient, s.enc] as const),
        ...g.kms.map((s) => [s.arn, s.enc] as const),
        ...g.pgp.map((s) => [s.fp, s.enc] as const),
      ]),
    );
  const encA = stanzas(a);
  const encB = stanzas(b);
  const shared = [...encA.keys()].filter((k) => encB.has(k));
  const same = (p: string) => {
    const x = a.leaves.get(p);
    const y = b.leaves.get(p);
    return (
      x !== undefined &&
      y !== undefined &&
      x.ciphertext === y.ciphertext &&
      (x.plain === undefined ? y.plain === undefined : y.plain !== undefined && x.plain.equals(y.plain))
    );
  };
  const paths = [...a.leaves.keys()];
  const encrypted = paths.filter((p) => a.leaves.get(p)?.encrypted === true);
  const newKey =
    shared.length > 0
      ? shared.some((k) => encA.get(k) !== encB.get(k))
      : encrypted.length > 0 && encrypted.every((p) => !same(p));
  return redactedDiff(file, paths, recipients(a), {
    recipients: recipients(b),
    newKey,
    mark: (p) => (same(p) ? '<redacted>' : setPaths.has(p) ? '<new value>' : '<redacted, re-encrypted>'),
  });
}

/** Apply would produce another change than the plan showed (nothing is written). */
export class PlanMismatchError extends SealantError {
  constructor(file: string) {
    super(
      'PLAN_MISMATCH',
      'applying the plan would change this file differently than the plan predicted; nothing was written',
      {
        file,
        hint: 'the repository or config changed since planning: run `sealant plan` again and review it',
      },
    );
  }
}

export async function applyPlan(plan: Plan, ctx: OpsContext, opts: ApplyOptions): Promise<ApplyResult> {
  // An empty plan is a compliant repository, not an error.
  if (plan.files.length === 0 && plan.config === undefined) return { dryRun: opts.dryRun === true, files: [] };
  const inputs = await readInputs(opts.values ?? [], ctx, opts);
  await promptMissing(plan, inputs, opts);
  const { config, envs, configWrite } = await environmentsOf(plan, ctx, opts);
  const schemas = new SchemaSet();
  const writes: { file: string; data: string; before: string }[] = [];
  // The config goes first: a crash between renames then leaves files the next plan rotates,
  // never a config that would hand the offboarded recipient the new data key again.
  if (configWrite !== undefined) writes.push(configWrite);
  const files: ApplyFileResult[] = [];
  for (const f of plan.files) {
    const abs = resolve(ctx.cwd, f.file);
    const bytes = await readFile(abs).catch(() => undefined);
    if (bytes === undefined || digestOf(bytes) !== f.digest)
      throw new StalePlanError('file changed since the plan was made', {
        file: f.file,
        hint: 'run `sealant plan` again',
      });
    const before = decodeUtf8(bytes, f.file);
    const env = envs.get(f.file)!;
    const schema = f.values.length === 0 ? undefined : await compiledSchemaFor(config, env, ctx.cwd, f.file, schemas);
    const out = await inFile(f.file, () => computeFile(f, env, before, ctx, opts, inputs, schema));
    // The plan is a promise: apply exactly the change it showed, or nothing at all.
    if (f.expectedDiff !== undefined) {
      const observed = observedDiff(f.file, before, out.text, new Set(out.values.map((v) => v.path)));
      if (observed !== f.expectedDiff) throw new PlanMismatchError(f.file);
    }
    writes.push({ file: abs, data: out.text, before });
    files.push({ file: f.file, actions: f.actions, values: out.values });
  }
  const result: ApplyResult = {
    dryRun: opts.dryRun === true,
    files,
    ...(plan.config === undefined ? {} : { config: { file: plan.config.file, removed: plan.config.removeRecipients } }),
  };
  if (opts.dryRun === true) {
    const shown = [...(plan.config === undefined ? [] : [plan.config.file]), ...plan.files.map((f) => f.file)];
    return {
      ...result,
      diff: writes.map((w, i) => createTwoFilesPatch(`a/${shown[i]!}`, `b/${shown[i]!}`, w.before, w.data)).join(''),
    };
  }
  await writeFilesAtomic(writes);
  return result;
}
