/**
 * The merge driver use-case: read git's three temporary files, merge (`git/merge.ts`), and
 * write the result over `%A` atomically. On a conflict or a refusal `%A` is left as it is —
 * ours, encrypted — so no plaintext and no conflict markers ever reach the work tree.
 */
import { relative, resolve } from 'node:path';
import { writeFileAtomic } from '../fsx/atomic.js';
import { mergeEncrypted } from '../git/merge.js';
import { formatFromPath } from '../stores/index.js';
import { loadForWrite } from './authority.js';
import { keySources, type KeyOptions, type OpsContext } from './context.js';
import { inFile, readText } from './read.js';

/** git's `%O %A %B %P`. */
export interface MergeDriverFiles {
  ancestor: string;
  current: string;
  other: string;
  /** The real path, relative to the repository root (git runs drivers there). */
  path: string;
}

/** The result of `sealant git merge-driver --json` (public API). */
export interface MergeDriverResult {
  path: string;
  status: 'merged' | 'conflict' | 'needs-key';
  mode?: 'keyed' | 'keyless';
  /** Key paths both sides changed differently (status `conflict`). */
  conflicts: string[];
  /** `%A` was rewritten (false when the merge is ours as it stands, or nothing was merged). */
  written: boolean;
  warnings: string[];
}

/**
 * Runs one merge.
 * @throws ReadError when a file cannot be read; NotSopsFileError/ParseError for a side that is
 * not a SOPS file; MacMismatchError/DecryptionError for a tampered revision; WeakenedMetadataError
 * (53, `%A` left as ours) when the config owns the file and the merged `sops` block is weaker; WriteError.
 */
export async function mergeDriver(
  ctx: OpsContext,
  files: MergeDriverFiles,
  opts: KeyOptions = {},
): Promise<MergeDriverResult> {
  const shown = relative(ctx.cwd, resolve(ctx.cwd, files.path)) || files.path;
  const [base, ours, theirs] = await Promise.all([
    readText(files.ancestor),
    readText(files.current),
    readText(files.other),
  ]);
  const sources = await keySources(ctx, opts);
  const format = formatFromPath(files.path);
  const outcome = await inFile(shown, () =>
    mergeEncrypted({ base, ours, theirs, file: shown, format }, sources, ctx.now()),
  );
  const result: MergeDriverResult = {
    path: shown,
    status: outcome.status,
    conflicts: [],
    written: false,
    warnings: [],
  };
  if (outcome.status === 'conflict') return { ...result, mode: outcome.mode, conflicts: outcome.paths };
  if (outcome.status === 'needs-key') return result;
  result.mode = outcome.mode;
  result.warnings = outcome.warnings;
  // The merged sops block may be theirs': the config decides whether it may be committed.
  await inFile(shown, () => loadForWrite(outcome.text, shown, ctx, { stanzas: 'kept', format, owner: {} }));
  if (outcome.text !== ours) {
    await writeFileAtomic(files.current, outcome.text);
    result.written = true;
  }
  return result;
}
