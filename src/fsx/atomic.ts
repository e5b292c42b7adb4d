/**
 * Crash-safe file writes. A reader (or a crash, or Ctrl-C) sees either the old file or the new
 * one, never a half-written file: data goes to a hidden temp file in the same directory (same
 * filesystem, so `rename` is atomic), is fsynced, and only then replaces the target.
 */

import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { link, open, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { WriteError } from '../errors.js';

/** Options for {@link writeFileAtomic}. */
export interface WriteFileAtomicOptions {
  /**
   * Permission bits of the written file. Default: the existing file's mode if the target
   * exists, else `0o644`. Pass `0o600` for plaintext (decrypted) outputs.
   */
  mode?: number;
  /**
   * Refuse to replace an existing file. The check is atomic (the temp file is hard-linked to
   * the target, which fails if the name exists), so two writers cannot both win.
   */
  exclusive?: boolean;
}

/** Prefix of temp files; `.gitignore` lists `.sealant-tmp-*` so a crash never leaves a file git wants to add. */
export const TEMP_PREFIX = '.sealant-tmp-';

/**
 * Writes `data` to `path` atomically.
 *
 * The temp file is created with the final mode before any byte is written, so a plaintext
 * output is never readable by others, not even for a moment. If `path` is a symlink, the file it
 * points to is replaced and the link kept (as a plain `writeFile` would do).
 *
 * @throws {WriteError} if any step fails (the temp file is removed first), or, with
 *   `exclusive`, if `path` already exists. The message names the path and the OS error code,
 *   never the data.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: WriteFileAtomicOptions = {}): Promise<void> {
  let target = path;
  let existingMode: number | undefined;
  try {
    const st = await stat(path);
    if (opts.exclusive === true) throw existsError(path);
    target = await realpath(path);
    existingMode = st.mode & 0o7777;
  } catch (err) {
    if (err instanceof WriteError) throw err;
    if (!isErrno(err, 'ENOENT')) throw wrap(path, err);
  }
  const mode = opts.mode ?? existingMode ?? 0o644;
  const dir = dirname(target);
  const tmp = join(dir, `${TEMP_PREFIX}${basename(target)}.${randomBytes(6).toString('hex')}`);

  let created = false;
  try {
    // O_EXCL: never write through a file (or symlink) an attacker planted under our temp name.
    const fh = await open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, mode);
    created = true;
    try {
      // `open` applies the umask; chmod before writing so the mode is exact from the first byte.
      await fh.chmod(mode);
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (opts.exclusive === true) {
      await linkExclusive(tmp, target, path);
      await unlink(tmp).catch(() => undefined);
    } else {
      await rename(tmp, target);
    }
    created = false;
    await fsyncDir(dir);
  } catch (err) {
    if (created) await unlink(tmp).catch(() => undefined);
    if (err instanceof WriteError) throw err;
    throw wrap(path, err);
  }
}

/** Hard-links `tmp` to `target`, failing if `target` exists; falls back to check-then-rename where links are unsupported. */
async function linkExclusive(tmp: string, target: string, shown: string): Promise<void> {
  try {
    await link(tmp, target);
  } catch (err) {
    if (isErrno(err, 'EEXIST')) throw existsError(shown);
    // FAT, some network and FUSE filesystems have no hard links: a racy check is the best left.
    if (isErrno(err, 'EPERM') || isErrno(err, 'ENOTSUP') || isErrno(err, 'EOPNOTSUPP') || isErrno(err, 'ENOSYS')) {
      const exists = await stat(target).then(() => true, () => false);
      if (exists) throw existsError(shown);
      await rename(tmp, target);
      return;
    }
    throw err;
  }
}

/** Makes the rename durable. Directories cannot be fsynced on Windows (and some filesystems); that is not an error. */
async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    if (isErrno(err, 'EISDIR') || isErrno(err, 'EPERM') || isErrno(err, 'EINVAL') || isErrno(err, 'EBADF') || isErrno(err, 'EACCES')) return;
    throw err;
  } finally {
    await fh?.close();
  }
}

function existsError(path: string): WriteError {
  return new WriteError('refusing to overwrite existing file', {
    file: path,
    hint: 'choose another output path or remove the file first',
  });
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'directory does not exist',
  ENOTDIR: 'a parent is not a directory',
  EISDIR: 'target is a directory',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only filesystem',
  EXDEV: 'cross-device rename',
  EFBIG: 'file too large',
};

/** Node's messages repeat the path (fine) but we build our own so nothing else can slip in. */
function wrap(path: string, err: unknown): WriteError {
  const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
  const reason = code === undefined ? 'unexpected error' : (REASONS[code] ?? code);
  return new WriteError(`cannot write file: ${reason}`, { file: path, cause: err });
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === code;
}
