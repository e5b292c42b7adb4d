/**
 * All-or-nothing writes of several files. Every new text is first written to a temp file next
 * to its target and fsynced; only when all of them are ready are they renamed over their targets.
 * A failure before the renames removes the temp files and leaves every target untouched.
 *
 * Residual window: the renames themselves run one after another. A crash (power loss, SIGKILL)
 * between two renames leaves some targets new and some old; each file is still whole (each
 * rename is atomic), so re-running `plan` shows what is left to do. A rename that fails there
 * (a target directory removed meanwhile) is reported with the files already replaced.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, open, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { WriteError } from '../errors.js';
import { TEMP_PREFIX } from './atomic.js';

/** One file to replace. */
export interface BatchWrite {
  file: string;
  data: string | Uint8Array;
}

interface Staged {
  file: string;
  target: string;
  tmp: string;
}

async function stage(w: BatchWrite): Promise<Staged> {
  const target = await realpath(w.file);
  const mode = (await stat(target)).mode & 0o7777;
  // A read-only file is a "do not touch" sign even where the directory would allow a rename.
  await access(target, fsConstants.W_OK);
  if ((mode & 0o222) === 0) throw Object.assign(new Error('read-only'), { code: 'EACCES' });
  const tmp = join(dirname(target), `${TEMP_PREFIX}${basename(target)}.${randomBytes(6).toString('hex')}`);
  const fh = await open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, mode);
  try {
    await fh.chmod(mode);
    await fh.writeFile(w.data);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  return { file: w.file, target, tmp };
}

function writeError(file: string, err: unknown, hint?: string): WriteError {
  const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : 'error';
  return new WriteError(`cannot write file (${code}); no file was changed`, { file, cause: err, ...(hint === undefined ? {} : { hint }) });
}

/**
 * Replaces every existing file of `writes`, or none of them (see the module comment for the
 * window during the renames). Modes are kept; symlinks are followed.
 * @throws WriteError naming the first file that could not be staged (then nothing changed), or
 * the file whose rename failed (the message says which files were already replaced).
 */
export async function writeFilesAtomic(writes: readonly BatchWrite[]): Promise<void> {
  const staged: Staged[] = [];
  for (const w of writes) {
    try {
      staged.push(await stage(w));
    } catch (e) {
      await Promise.all(staged.map((s) => unlink(s.tmp).catch(() => undefined)));
      throw writeError(w.file, e);
    }
  }
  const done: string[] = [];
  for (const [i, s] of staged.entries()) {
    try {
      await rename(s.tmp, s.target);
      done.push(s.file);
    } catch (e) {
      await Promise.all(staged.slice(i).map((r) => unlink(r.tmp).catch(() => undefined)));
      throw new WriteError(`cannot replace file; already replaced: ${done.length === 0 ? 'none' : done.join(', ')}`, { file: s.file, cause: e });
    }
  }
}
