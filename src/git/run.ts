/**
 * Running git: one way for every command (no shell, arguments as an array, stdin optional,
 * output as bytes). Callers decide what a non-zero exit means.
 */
import { spawn } from 'node:child_process';
import { GitError } from '../errors.js';

export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export interface GitOptions {
  cwd: string;
  /** Environment for git (default: this process's). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Bytes for git's stdin. */
  input?: string;
}

/**
 * Runs git and resolves with its exit code and output, whatever the exit code.
 * @throws GitError only when git cannot be started.
 */
export function runGit(args: readonly string[], opts: GitOptions): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', [...args], {
      cwd: opts.cwd,
      env: (opts.env ?? process.env) as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) =>
      reject(new GitError('cannot run git', { cause: e, hint: 'install git, or put it on PATH' })),
    );
    child.on('close', (code) =>
      resolve({ code: code ?? 128, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }),
    );
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * Runs git and returns its stdout, or throws when it exits non-zero.
 * @throws GitError naming `what` and git's first stderr line (git quotes paths and revisions
 * there, never file contents).
 */
export async function mustGit(
  args: readonly string[],
  opts: GitOptions & { what?: string; hint?: string },
): Promise<Buffer> {
  const r = await runGit(args, opts);
  if (r.code !== 0) {
    const reason = (r.stderr.split('\n')[0] ?? '').trim() || `git exited with ${r.code}`;
    throw new GitError(
      `${opts.what ?? `git ${args[0] ?? ''} failed`}: ${reason}`,
      opts.hint === undefined ? {} : { hint: opts.hint },
    );
  }
  return r.stdout;
}
