/**
 * The staged side of a commit: which paths the index adds or changes, and their blob bytes.
 * Everything is read from the index (never the work tree), because that is what `git commit`
 * records; `GIT_INDEX_FILE` in the passed environment is honoured, which `git commit -a` and
 * `git commit <paths>` set for the pre-commit hook.
 */
import { basename, dirname } from 'node:path';
import { GitError } from '../errors.js';
import { mustGit, runGit } from './run.js';

/** One staged blob. */
export interface StagedFile {
  /** Path relative to the repository root, `/`-separated, as git prints it. */
  path: string;
  /** git file mode (`100644`, `100755`; symlinks and submodules are not listed). */
  mode: string;
  blob: string;
  /** The blob HEAD has for this file (at its old path when git saw a rename); absent for a new file. */
  head?: { path: string; blob: string };
}

/** What the index is about to commit: files added or changed, and files it deletes. */
export interface StagedChanges {
  files: StagedFile[];
  /** Regular files HEAD has that the commit removes, with their HEAD blobs. */
  deleted: { path: string; blob: string }[];
}

/** How git is run: the repository's top directory and the environment to pass. */
export interface GitRunOptions {
  repoDir: string;
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * Runs git in the repository with the hook's environment and returns its stdout bytes.
 * @throws GitError when git cannot be started or exits non-zero.
 */
export function gitIn(args: readonly string[], opts: GitRunOptions, input?: string): Promise<Buffer> {
  return mustGit(['-C', opts.repoDir, ...args], {
    cwd: opts.repoDir,
    env: opts.env,
    ...(input === undefined ? {} : { input }),
    hint: 'run it inside a git repository',
  });
}

/**
 * The top directory of the work tree containing `cwd`.
 * @throws GitError outside a repository.
 */
export async function repoTopLevel(cwd: string, env: GitRunOptions['env']): Promise<string> {
  const out = await gitIn(['rev-parse', '--show-toplevel'], { repoDir: cwd, env });
  return out.toString('utf8').trim();
}

/**
 * Regular files the index adds, copies, modifies or renames relative to HEAD (everything staged,
 * before the first commit). Same selection as `git diff --cached --name-only --diff-filter=ACMR`,
 * in `--raw` form so the blob ids come along and no `git show` per file is needed.
 * @throws GitError.
 */
export async function stagedFiles(opts: GitRunOptions): Promise<StagedFile[]> {
  return (await stagedChanges(opts)).files;
}

/** git's id of "no blob" (the source side of an added file). */
const NO_BLOB = /^0+$/;

/**
 * {@link stagedFiles}, with HEAD's blob of each file (git's rename detection pairs a moved file
 * with its old path) and the files the commit deletes.
 * @throws GitError.
 */
export async function stagedChanges(opts: GitRunOptions): Promise<StagedChanges> {
  const raw = await gitIn(
    ['diff', '--cached', '--raw', '-z', '-M', '--no-abbrev', '--diff-filter=ACMRD', '--no-ext-diff'],
    opts,
  );
  const parts = raw.toString('utf8').split('\0');
  const out: StagedChanges = { files: [], deleted: [] };
  for (let i = 0; i + 1 < parts.length;) {
    // `:100644 100644 <src> <dst> M` then the path (two paths for R and C), NUL-separated under -z.
    const [srcMode = '', mode = '', src = '', blob = '', status = ''] = (parts[i++] ?? '').slice(1).split(' ');
    const first = parts[i++] ?? '';
    const path = status.startsWith('R') || status.startsWith('C') ? (parts[i++] ?? '') : first;
    if (status === 'D') {
      if (srcMode.startsWith('100')) out.deleted.push({ path: first, blob: src });
      continue;
    }
    if (!mode.startsWith('100')) continue;
    const file: StagedFile = { path, mode, blob };
    if (srcMode.startsWith('100') && !NO_BLOB.test(src)) file.head = { path: first, blob: src };
    out.files.push(file);
  }
  return out;
}

/**
 * The bytes of `absPath` as HEAD of the repository holding it has them (`git cat-file`, so no
 * textconv driver is involved).
 * @returns undefined outside a repository, without git, before the first commit, or when HEAD
 * has no such file. Never throws.
 */
export async function committedFile(absPath: string, env: GitRunOptions['env']): Promise<Buffer | undefined> {
  const dir = dirname(absPath);
  try {
    const r = await runGit(['-C', dir, 'cat-file', 'blob', `HEAD:./${basename(absPath)}`], { cwd: dir, env });
    return r.code === 0 ? r.stdout : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The bytes of `blobs`, in one `git cat-file --batch` process (a `git show` per file would
 * cost a process start each, which is most of a hook's time).
 * @throws GitError.
 */
export async function readBlobs(blobs: readonly string[], opts: GitRunOptions): Promise<Buffer[]> {
  if (blobs.length === 0) return [];
  const out = await gitIn(['cat-file', '--batch'], opts, `${blobs.join('\n')}\n`);
  const result: Buffer[] = [];
  let at = 0;
  for (let i = 0; i < blobs.length; i++) {
    const eol = out.indexOf(10, at);
    const header = out.subarray(at, eol).toString('utf8').split(' ');
    const size = Number(header[2]);
    if (header[1] !== 'blob' || !Number.isSafeInteger(size)) throw new GitError('unexpected git cat-file output');
    result.push(out.subarray(eol + 1, eol + 1 + size));
    at = eol + 1 + size + 1;
  }
  return result;
}
