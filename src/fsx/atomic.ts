/**
 * Crash-safe file writes. A reader (or a crash, or Ctrl-C) sees either the old file or the new
 * one, never a half-written file: data goes to a file of the target's name in a private hidden
 * directory next to it (same filesystem, so `rename` is atomic), is fsynced, and only then
 * replaces the target. A SIGKILL mid-write leaves at most that directory, which git ignores
 * wherever it ignores the target by name, and which the next write to the target removes.
 */

import { constants as fsConstants, type Stats } from 'node:fs';
import {
  access,
  link,
  lstat,
  open,
  readdir,
  realpath,
  rename,
  rm,
  stat,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { WriteError } from '../errors.js';
import { livePrivateTempDirs, withPrivateTempDir } from './private-temp.js';

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
  /**
   * Refuse when `path` is a symbolic link instead of replacing the file it points to. For
   * output paths (`--output`, `--out`): a link planted there could send plaintext anywhere.
   */
  noFollow?: boolean;
  /**
   * The directory to stage the temp file in, instead of the target's own. It must be on the
   * target's filesystem (else the rename fails with EXDEV and nothing is written). `render`
   * stages in the repository's git directory when git would not ignore a temp name next to
   * the output.
   */
  stageIn?: string;
}

/**
 * Prefix of staging directories (and, before them, of temp files). This repository's
 * `.gitignore` lists `.sealant-tmp-*`; other repositories need not (see {@link stagingPath}).
 */
export const TEMP_PREFIX = '.sealant-tmp-';

/** A new version of a file, complete and fsynced in its private staging directory. */
export interface StagedFile {
  /** The path as the caller named it (for messages). */
  file: string;
  /** The path the staged file replaces (a symlink's target when links are followed). */
  target: string;
  /** The staged file. */
  tmp: string;
}

/**
 * Where a file replacing `target` is staged, with `XXXXXX` for the random part:
 * `DIR/.sealant-tmp-PID-XXXXXX/NAME`. The staged file keeps the target's own name, so every
 * ignore rule that matches the target by name or extension at any depth (`.env`, `*.env`,
 * `secrets/`) matches it too: a crash mid-write leaves nothing git would add. A rule anchored
 * to one path (`/.env`) does not; `render` asks git about this path before writing.
 */
export function stagingPath(target: string, stageIn: string = dirname(target)): string {
  return join(stageIn, `${TEMP_PREFIX}${process.pid}-XXXXXX`, basename(target));
}

/**
 * Writes `data` to `path` atomically.
 *
 * The temp file is created with the final mode before any byte is written, in a 0700 staging
 * directory, so a plaintext output is never readable by others, not even for a moment. When
 * `path` exists it must be writable (a read-only file is refused, even for root, as `sops`
 * refuses for any other user), and the new file keeps its owner and group where the process
 * may set them (root can; others keep the file's group if they belong to it). If `path` is a
 * symlink, the file it points to is replaced and the link kept (as a plain `writeFile` would
 * do) — unless `noFollow`.
 *
 * Staging directories that a killed process left for this target are removed first; SIGINT,
 * SIGTERM and SIGHUP during the write remove the staging directory before the process exits.
 *
 * @throws {WriteError} if any step fails (the staging directory is removed first), if `path`
 *   is read-only, is a symlink with `noFollow`, or, with `exclusive`, already exists. The
 *   message names the path and the OS error code, never the data.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: WriteFileAtomicOptions = {},
): Promise<void> {
  await withStagedFile(path, data, opts, async (staged) => {
    try {
      await placeStaged(staged, opts.exclusive === true);
      await fsyncDir(dirname(staged.target));
    } catch (err) {
      if (err instanceof WriteError) throw err;
      throw wrap(path, err);
    }
  });
}

/**
 * Stages `data` as the next version of `path` and runs `use` with it; the staging directory is
 * removed when `use` ends (after a rename it is empty). The one staging step of every write:
 * {@link writeFileAtomic} places one file, `writeFilesAtomic` (batch.ts) several.
 *
 * @throws {WriteError} when staging fails (see {@link writeFileAtomic}); whatever `use` throws.
 */
export async function withStagedFile<T>(
  path: string,
  data: string | Uint8Array,
  opts: WriteFileAtomicOptions,
  use: (staged: StagedFile) => Promise<T>,
): Promise<T> {
  const { target, existing } = await resolveTarget(path, opts);
  const mode = opts.mode ?? (existing === undefined ? 0o644 : existing.mode & 0o7777);
  const parent = opts.stageIn ?? dirname(target);
  const name = basename(target);
  await removeStale(parent, name);
  let staged: StagedFile | undefined;
  // From here until the callback starts, our new staging directory may exist without being
  // registered as live yet: removeStale leaves directories of our own pid alone meanwhile.
  let creating = true;
  stagingDirsBeingCreated++;
  const created = (): void => {
    if (creating) stagingDirsBeingCreated--;
    creating = false;
  };
  try {
    return await withPrivateTempDir(
      async (dir) => {
        created();
        const tmp = join(dir, name);
        // O_EXCL: the name is new in a directory only we can enter, so nothing was planted there.
        const fh = await open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, mode);
        try {
          if (existing !== undefined) await keepOwner(fh, existing);
          // `open` applies the umask (and chown may clear set-id bits): chmod before writing so
          // the mode is exact from the first byte.
          await fh.chmod(mode);
          await fh.writeFile(data);
          await fh.sync();
        } finally {
          await fh.close();
        }
        staged = { file: path, target, tmp };
        return await use(staged);
      },
      { parent, prefix: `${TEMP_PREFIX}${process.pid}-` },
    );
  } catch (err) {
    if (err instanceof WriteError || staged !== undefined) throw err;
    throw wrap(path, err);
  } finally {
    created();
  }
}

/**
 * Puts a staged file in place: a rename over the target, or with `exclusive` a hard link that
 * fails if the target exists. The caller fsyncs the directory ({@link fsyncDir}).
 * @throws the OS error, or WriteError when `exclusive` finds the target.
 */
export async function placeStaged(staged: StagedFile, exclusive = false): Promise<void> {
  if (exclusive) await linkExclusive(staged.tmp, staged.target, staged.file);
  else await rename(staged.tmp, staged.target);
}

async function resolveTarget(
  path: string,
  opts: WriteFileAtomicOptions,
): Promise<{ target: string; existing?: Stats }> {
  try {
    const link = await lstat(path);
    if (opts.exclusive === true) throw existsError(path);
    if (link.isSymbolicLink() && opts.noFollow === true) {
      throw new WriteError('refusing to write through a symbolic link', {
        file: path,
        hint: 'remove the link or choose another output path',
      });
    }
    const target = link.isSymbolicLink() ? await realpath(path) : path;
    const existing = link.isSymbolicLink() ? await stat(target) : link;
    // A read-only file is a "do not touch" sign even where the directory would allow a rename
    // (and root's access() says yes to anything).
    if (
      existing.isFile() &&
      ((existing.mode & 0o222) === 0 ||
        !(await access(target, fsConstants.W_OK).then(
          () => true,
          () => false,
        )))
    ) {
      throw new WriteError('file is read-only', {
        file: path,
        hint: 'make it writable (chmod u+w) if it is meant to change',
      });
    }
    return { target, existing };
  } catch (err) {
    if (err instanceof WriteError) throw err;
    // A dangling symlink: `realpath`/`stat` fail with ENOENT; the link is then replaced.
    if (isErrno(err, 'ENOENT')) return { target: path };
    throw wrap(path, err);
  }
}

/**
 * Gives the staged file the owner and group of the file it replaces. Root may set both (so
 * `sudo sealant set` does not hand a user's file to root); anyone else only a group they are
 * in, and otherwise the new file is theirs, as after an editor's save.
 */
async function keepOwner(fh: FileHandle, existing: Stats): Promise<void> {
  if (typeof process.geteuid !== 'function') return; // Windows: no POSIX owners
  if (existing.uid === process.geteuid() && existing.gid === process.getegid?.()) return;
  try {
    await fh.chown(existing.uid, existing.gid);
  } catch (err) {
    if (!isErrno(err, 'EPERM') && !isErrno(err, 'EINVAL')) throw err;
    await fh.chown(-1, existing.gid).catch(() => undefined);
  }
}

const STAGING_DIR = /^\.sealant-tmp-(\d+)-[A-Za-z0-9]{6}$/;

/** Writes of this process between "creating a staging directory" and "registered as live". */
let stagingDirsBeingCreated = 0;

/**
 * Removes what a killed writer left for `name` in `dir`: staging directories (holding nothing
 * but a file called `name`) of processes that no longer exist, or that carry our own pid but are
 * not one of our live staging directories — in a container every run is PID 1 (or the same small
 * pid), so a crashed earlier run's directory has our pid. Temp files of the old
 * `.sealant-tmp-NAME.HEX` form go too. A live writer's directory is never touched.
 */
async function removeStale(dir: string, name: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const legacy = `${TEMP_PREFIX}${name}.`;
  for (const e of entries) {
    const pid = STAGING_DIR.exec(e.name)?.[1];
    const own = pid !== undefined && Number(pid) === process.pid;
    if (pid !== undefined && e.isDirectory() && (own || !processExists(Number(pid)))) {
      const path = join(dir, e.name);
      const inside = await readdir(path).catch(() => undefined);
      // Decided after the last await: a write of ours that started meanwhile is seen here.
      const ours = own && (stagingDirsBeingCreated > 0 || livePrivateTempDirs().includes(path));
      if (inside !== undefined && inside.every((n) => n === name) && !ours)
        await rm(path, { recursive: true, force: true }).catch(() => undefined);
    } else if (e.isFile() && e.name.startsWith(legacy) && /^[0-9a-f]{12}$/.test(e.name.slice(legacy.length))) {
      await unlink(join(dir, e.name)).catch(() => undefined);
    }
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isErrno(err, 'EPERM'); // someone else's live process
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
      const exists = await stat(target).then(
        () => true,
        () => false,
      );
      if (exists) throw existsError(shown);
      await rename(tmp, target);
      return;
    }
    throw err;
  }
}

/** Makes a rename durable. Directories cannot be fsynced on Windows (and some filesystems); that is not an error. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    if (
      isErrno(err, 'EISDIR') ||
      isErrno(err, 'EPERM') ||
      isErrno(err, 'EINVAL') ||
      isErrno(err, 'EBADF') ||
      isErrno(err, 'EACCES')
    )
      return;
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
  const code =
    typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
  const reason = code === undefined ? 'unexpected error' : (REASONS[code] ?? code);
  return new WriteError(`cannot write file: ${reason}`, { file: path, cause: err });
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === code;
}
