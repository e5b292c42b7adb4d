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
  return mustGit(['-C', opts.repoDir, ...args], { cwd: opts.repoDir, env: opts.env, ...(input === undefined ? {} : { input }), hint: 'run it inside a git repository' });
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
  const raw = await gitIn(['diff', '--cached', '--raw', '-z', '--no-renames', '--no-abbrev', '--diff-filter=ACMR', '--no-ext-diff'], opts);
  const parts = raw.toString('utf8').split('\0');
  const files: StagedFile[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    // `:100644 100644 <src> <dst> M` then the path, NUL-separated under -z.
    const [, mode = '', , blob = ''] = (parts[i] ?? '').slice(1).split(' ');
    if (mode.startsWith('100')) files.push({ path: parts[i + 1] ?? '', mode, blob });
  }
  return files;
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
