/**
 * Asking git whether a path would end up in a commit, so that `render` can refuse to write
 * plaintext where `git add -A` would pick it up. Uses the `git` binary: its answer includes every
 * ignore source (`.gitignore` at any level, `.git/info/exclude`, `core.excludesFile`), which a
 * re-implementation would get subtly wrong.
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';

import { SealantError } from '../errors.js';

/** What git says about one path. */
export interface GitPathStatus {
  /** The path lies in a git work tree (or in its `.git` directory). */
  inRepo: boolean;
  /** The index has the path (committed or staged), or files under it if it is a directory. */
  tracked: boolean;
  /** An ignore rule matches the path (always true inside `.git`). */
  ignored: boolean;
}

/** Options for {@link isTrackedOrUnignored}. */
export interface GitCheckOptions {
  /** The git executable (default `git` from `PATH`). */
  git?: string;
  /** Environment for git (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

/** git is installed but could not answer (corrupt repository, "dubious ownership"…). */
export class GitCheckError extends SealantError {
  constructor(message: string, options: { file?: string; cause?: unknown } = {}) {
    super('GIT', message, { ...options, hint: 'fix the repository, or pass --force to write anyway' });
  }
}

interface GitRun {
  code: number;
  stdout: string;
  stderr: string;
}

const NOT_IN_REPO: GitPathStatus = { inRepo: false, tracked: false, ignored: false };

/**
 * Tells whether `path` is inside a git work tree, tracked, and ignored.
 *
 * The repository is the one that contains `path` (not the one `cwd` is in), so a path outside
 * the current repository, or in another one, is judged by where it really is. The path need not
 * exist: git is asked from its nearest existing ancestor directory.
 *
 * Not a repository, or no git installed, answers `inRepo: false`: without git nothing can be
 * committed from this machine.
 *
 * @param path the file to check, absolute or relative to `cwd`.
 * @param cwd the directory relative paths are resolved against.
 * @throws {GitCheckError} when git runs but fails for another reason (safer than guessing
 *   "ignored" and writing plaintext into a repository).
 */
export async function isTrackedOrUnignored(
  path: string,
  cwd: string,
  opts: GitCheckOptions = {},
): Promise<GitPathStatus> {
  const target = resolve(cwd, path);
  const base = await existingAncestor(dirname(target));
  const rel = relative(base, target);
  const where = await runGit(['rev-parse', '--is-inside-work-tree', '--is-inside-git-dir'], base, opts);
  if (where === undefined) return NOT_IN_REPO;
  if (where.code !== 0) {
    if (/not a git repository/i.test(where.stderr)) return NOT_IN_REPO;
    throw new GitCheckError(`git cannot tell whether the path is tracked: ${firstLine(where.stderr)}`, { file: path });
  }
  const [inWorkTree, inGitDir] = where.stdout.trim().split('\n');
  if (inGitDir === 'true') return { inRepo: true, tracked: false, ignored: true };
  if (inWorkTree !== 'true') return NOT_IN_REPO; // a bare repository: nothing is checked out there
  // --literal-pathspecs: a file named `*.env` must match itself, not every .env file.
  const tracked = await mustRunGit(
    ['--literal-pathspecs', 'ls-files', '--error-unmatch', '--', rel],
    base,
    opts,
    path,
    [0, 1],
  );
  if (tracked.code === 0) return { inRepo: true, tracked: true, ignored: false };
  // check-ignore takes plain paths (it refuses pathspec magic), so no --literal-pathspecs here.
  const ignored = await mustRunGit(['check-ignore', '-q', '--', rel], base, opts, path, [0, 1]);
  return { inRepo: true, tracked: false, ignored: ignored.code === 0 };
}

/**
 * The absolute git directory of the repository whose work tree holds `path` (which need not
 * exist): a place git never adds files from. `undefined` outside a work tree or without git.
 * @throws {GitCheckError} when git runs but cannot answer.
 */
export async function gitDirOf(path: string, cwd: string, opts: GitCheckOptions = {}): Promise<string | undefined> {
  const base = await existingAncestor(dirname(resolve(cwd, path)));
  const r = await runGit(['rev-parse', '--absolute-git-dir'], base, opts);
  if (r === undefined || (r.code !== 0 && /not a git repository/i.test(r.stderr))) return undefined;
  if (r.code !== 0)
    throw new GitCheckError(`git cannot tell where the repository is: ${firstLine(r.stderr)}`, { file: path });
  return r.stdout.trim();
}

/** The deepest existing directory on the way from `dir` to the root. */
async function existingAncestor(dir: string): Promise<string> {
  for (let d = dir; ; d = dirname(d)) {
    const isDir = await stat(d).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (isDir || dirname(d) === d) return d;
  }
}

/** Runs git; `undefined` when the git binary cannot be started. */
function runGit(args: readonly string[], cwd: string, opts: GitCheckOptions): Promise<GitRun | undefined> {
  return new Promise((done) => {
    execFile(
      opts.git ?? 'git',
      args,
      { cwd, encoding: 'utf8', ...(opts.env === undefined ? {} : { env: opts.env }) },
      (err, stdout, stderr) => {
        if (err === null) return done({ code: 0, stdout, stderr });
        if (typeof err.code === 'number') return done({ code: err.code, stdout, stderr });
        done(undefined); // ENOENT/EACCES: no usable git
      },
    );
  });
}

/** Runs git and accepts only the listed exit codes. */
async function mustRunGit(
  args: readonly string[],
  cwd: string,
  opts: GitCheckOptions,
  shown: string,
  ok: readonly number[],
): Promise<GitRun> {
  const r = await runGit(args, cwd, opts);
  if (r === undefined) throw new GitCheckError('git stopped working during the check', { file: shown });
  if (!ok.includes(r.code))
    throw new GitCheckError(`git cannot tell whether the path is tracked: ${firstLine(r.stderr)}`, { file: shown });
  return r;
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').replace(/^fatal: /, '').trim() || 'unknown error';
}
