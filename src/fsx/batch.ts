/**
 * All-or-nothing writes of several files. Every new text is first staged next to its target
 * and fsynced (the staging of atomic.ts); only when all of them are ready are they renamed over
 * their targets. A failure before the renames removes the staged files and leaves every target
 * untouched.
 *
 * Residual window: the renames themselves run one after another. A crash (power loss, SIGKILL)
 * between two renames leaves some targets new and some old; each file is still whole (each
 * rename is atomic), so re-running `plan` shows what is left to do. A rename that fails there
 * (a target directory removed meanwhile) is reported with the files already replaced.
 */
import { dirname } from 'node:path';
import { WriteError } from '../errors.js';
import { fsyncDir, placeStaged, withStagedFile, type StagedFile } from './atomic.js';

/** One file to replace. */
export interface BatchWrite {
  file: string;
  data: string | Uint8Array;
}

function writeError(file: string, err: unknown): WriteError {
  const code =
    typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : 'error';
  const why = err instanceof WriteError ? err.message : `cannot write file (${code})`;
  return new WriteError(`${why}; no file was changed`, {
    file,
    cause: err,
    ...(err instanceof WriteError && err.hint !== undefined ? { hint: err.hint } : {}),
  });
}

/**
 * Replaces every existing file of `writes`, or none of them (see the module comment for the
 * window during the renames). Modes, owners and groups are kept; symlinks are followed; a
 * read-only file is refused before anything is replaced.
 * @throws WriteError naming the first file that could not be staged (then nothing changed), or
 * the file whose rename failed (the message says which files were already replaced).
 */
export async function writeFilesAtomic(writes: readonly BatchWrite[]): Promise<void> {
  // Each file is staged inside the previous one's callback, so every staging directory is
  // still there (and removed on the way out) when the renames run.
  const stageFrom = async (i: number, staged: StagedFile[]): Promise<void> => {
    const w = writes[i];
    if (w === undefined) return placeAll(staged);
    let isStaged = false;
    try {
      await withStagedFile(w.file, w.data, {}, (s) => {
        isStaged = true;
        return stageFrom(i + 1, [...staged, s]);
      });
    } catch (e) {
      throw isStaged ? e : writeError(w.file, e);
    }
  };
  await stageFrom(0, []);
}

async function placeAll(staged: readonly StagedFile[]): Promise<void> {
  const done: string[] = [];
  for (const s of staged) {
    try {
      await placeStaged(s);
      done.push(s.file);
    } catch (e) {
      throw new WriteError(`cannot replace file; already replaced: ${done.length === 0 ? 'none' : done.join(', ')}`, {
        file: s.file,
        cause: e,
      });
    }
  }
  for (const dir of new Set(staged.map((s) => dirname(s.target)))) await fsyncDir(dir);
}
