/**
 * Loading one environment for deploy-time output: every file it owns, decrypted (one data key
 * unwrap per file, files in parallel with a bound), merged in path order (later files win).
 * The result feeds the pure renderers in `render/`, `exec` and the KRM function.
 */
import { relative, resolve } from 'node:path';
import { ConfigError, formatPath, MacUncoveredError, SealantError } from '../errors.js';
import { environmentByName, loadProjectConfig } from '../config/index.js';
import { filesOf } from './config-files.js';
import type { EnvironmentConfig, ProjectConfig } from '../config/model.js';
import { macUncovered, type UncoveredLeaf } from '../format/mac.js';
import { getAtPath } from '../format/paths.js';
import { sameScalar, type MapNode } from '../format/tree.js';
import type { KeySources } from '../keys/datakey.js';
import { mergeSources, type Conflict } from '../render/merge.js';
import { mapBounded, DEFAULT_CONCURRENCY } from './bulk.js';
import type { OpsContext } from './context.js';
import { asEncrypted, loadDocument, openDocument } from '../document/document.js';
import { inFile, readText } from './read.js';

export interface LoadedFile {
  /** Path relative to the working directory. */
  file: string;
  /** Which master key unwrapped its data key (`age:age1…`, `kms:arn…`). */
  unwrappedBy: string[];
}

export interface LoadedEnvironment {
  config: ProjectConfig;
  environment: EnvironmentConfig;
  /** The merged, decrypted tree (comments removed). Holds secrets: never log it. */
  tree: MapNode;
  files: LoadedFile[];
  conflicts: Conflict[];
  /**
   * Per file, the key paths of the merged tree whose value came from a leaf the MAC does not
   * cover (`""`, null; clear values under `mac_only_encrypted`): anyone could have put them there.
   */
  uncovered: { file: string; paths: string[] }[];
}

export interface LoadEnvironmentOptions {
  env: string;
  sources: KeySources;
  configPath?: string;
  /** Only these files (must belong to the environment); default all it owns. */
  files?: readonly string[];
  /** Conflicting keys across files are an error instead of a warning. */
  strict?: boolean;
  concurrency?: number;
}

/** Thrown under `--strict` when two files set one key to different values. */
export class MergeConflictError extends SealantError {
  constructor(conflicts: readonly Conflict[]) {
    super(
      'MERGE_CONFLICT',
      `${conflicts.length} key(s) set differently by several files: ${conflicts.map((c) => `${c.path} (${c.files.join(', ')})`).join('; ')}`,
      {
        hint: 'later files win; drop --strict to accept that, or remove the duplicate key',
      },
    );
  }
}

/**
 * Decrypts and merges every file of environment `opts.env`.
 * @throws ConfigError (no config, unknown environment, no files), NoKeyError, MacMismatchError…
 * for the first file that fails (all are attempted), MergeConflictError under `strict`.
 */
export async function loadEnvironment(ctx: OpsContext, opts: LoadEnvironmentOptions): Promise<LoadedEnvironment> {
  const config = await loadProjectConfig({
    cwd: ctx.cwd,
    env: ctx.env,
    ...(opts.configPath === undefined ? {} : { path: opts.configPath }),
  });
  if (config === undefined)
    throw new ConfigError('no .sealant.yaml or .sops.yaml found', { hint: 'see docs/config.md' });
  const environment = environmentByName(config, opts.env);
  const owned = (await filesOf(config, environment)).map((f) => relative(ctx.cwd, f) || f);
  const files = opts.files === undefined ? owned : [...opts.files];
  if (files.length === 0)
    throw new ConfigError(`environment "${environment.name}" has no files`, { file: config.path });
  const outcomes = await mapBounded(files, opts.concurrency ?? DEFAULT_CONCURRENCY, async (file) => {
    const text = await readText(resolve(ctx.cwd, file));
    return inFile(file, async () => {
      const enc = asEncrypted(loadDocument(text, file));
      // Judged on the file as stored, before decryption hides what was in clear.
      const uncovered = macUncovered(enc.doc.documents, enc.meta.macOnlyEncrypted);
      const opened = await openDocument(enc, opts.sources);
      return { file, documents: opened.doc.documents, unwrappedBy: opened.unwrappedBy, uncovered };
    });
  });
  const failed = outcomes.find((o) => !o.ok);
  if (failed !== undefined && !failed.ok) {
    const others = outcomes.filter((o) => !o.ok).length - 1;
    if (others > 0) ctx.warn(`${others} more file(s) of "${environment.name}" failed too`);
    throw failed.error;
  }
  const loaded = outcomes.map((o) => (o.ok ? o.value : undefined)).filter((v) => v !== undefined);
  const merged = mergeSources(loaded);
  if (merged.conflicts.length > 0) {
    if (opts.strict === true) throw new MergeConflictError(merged.conflicts);
    for (const c of merged.conflicts) ctx.warn(`${c.path} is set by ${c.files.join(', ')}; the last one wins`);
  }
  return {
    config,
    environment,
    tree: merged.tree,
    files: loaded.map((l) => ({ file: l.file, unwrappedBy: l.unwrappedBy })),
    conflicts: merged.conflicts,
    uncovered: uncoveredInOutput(merged.tree, loaded),
  };
}

/** The uncovered leaves whose value is the one the merged tree holds (a later file may have replaced it). */
function uncoveredInOutput(
  tree: MapNode,
  loaded: readonly { file: string; uncovered: UncoveredLeaf[] }[],
): LoadedEnvironment['uncovered'] {
  const out: LoadedEnvironment['uncovered'] = [];
  for (const l of loaded) {
    const paths = l.uncovered.filter((u) => {
      const now = getAtPath([tree], u.path);
      return now?.kind === 'scalar' && sameScalar(now.value, u.value);
    });
    if (paths.length > 0) out.push({ file: l.file, paths: [...new Set(paths.map((u) => formatPath(u.path)))] });
  }
  return out;
}

function uncoveredList(uncovered: LoadedEnvironment['uncovered']): string {
  return uncovered.map((u) => `${u.file}: ${u.paths.join(', ')}`).join('; ');
}

/**
 * Warns about (or under `strict` refuses) output values the MAC does not cover: an empty
 * `PATH` or `GIT_SSL_NO_VERIFY` anyone could have added. Names key paths only.
 * @throws MacUncoveredError under `strict` when there are any.
 */
export function checkUncovered(loaded: LoadedEnvironment, ctx: OpsContext, strict: boolean): void {
  if (loaded.uncovered.length === 0) return;
  if (strict) {
    throw new MacUncoveredError(`values the MAC does not cover would be output: ${uncoveredList(loaded.uncovered)}`, {
      hint: 'anyone who can edit the file can add such keys without a key: remove them or give them values (`sealant set`), or drop --strict',
    });
  }
  for (const u of loaded.uncovered)
    ctx.warn(
      `${u.file}: ${u.paths.join(', ')}: not covered by the MAC ("" or null, or in clear under mac_only_encrypted): anyone who can edit the file could have added or changed them without a key`,
    );
}
