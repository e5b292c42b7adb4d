/**
 * Installing `sealant guard` as git's pre-commit hook. The hook calls this very installation
 * (absolute node and `bin/run.js` paths), so it works from GUI clients and shells whose PATH has
 * no `sealant`; a repository shared between machines should use the pre-commit framework
 * (`.pre-commit-hooks.yaml`) instead.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gitIn } from './staged.js';

/** Marks a hook sealant wrote, so that a re-install may replace an older one of its own. */
const MARKER = '# installed by sealant: sealant guard';

/** Outcome of {@link installPreCommitHook}. */
export interface HookInstallResult {
  /** Absolute path of the hook file. */
  path: string;
  /** True when the hook now runs `sealant guard` (written now, or already there). */
  installed: boolean;
  /** Why it was not installed, or that it was already there. */
  reason?: string;
}

/** POSIX sh single-quoting: nothing inside is expanded. */
function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The hook script: this node binary running this installation's CLI. */
export function preCommitScript(
  node: string = process.execPath,
  bin: string = fileURLToPath(new URL('../../bin/run.js', import.meta.url)),
): string {
  return `#!/bin/sh\n${MARKER}\n# Blocks commits that would add plaintext secrets; bypass once with: git commit --no-verify\nexec ${shQuote(node)} ${shQuote(bin)} guard\n`;
}

/**
 * The hooks directory git uses for `repoDir`: `core.hooksPath` when set, else `.git/hooks`
 * (worktrees and `GIT_DIR` included, which is why git itself is asked).
 * @throws GitError outside a repository.
 */
export async function hooksDir(
  repoDir: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<string> {
  const out = await gitIn(['rev-parse', '--git-path', 'hooks'], { repoDir, env });
  return resolve(repoDir, out.toString('utf8').trim());
}

/**
 * Writes the pre-commit hook running `sealant guard` (mode 0755). Idempotent: an identical hook
 * is left alone, and one an earlier sealant wrote (another node or install path) is replaced.
 * A different hook is never replaced unless `force`.
 * @returns `installed: false` with a `reason` when another hook is in the way.
 * @throws GitError when `repoDir` is not a git repository; the fs error when the hook cannot be
 * written.
 */
export async function installPreCommitHook(
  repoDir: string,
  opts: { force?: boolean } = {},
): Promise<HookInstallResult> {
  const dir = await hooksDir(repoDir);
  const path = resolve(dir, 'pre-commit');
  const script = preCommitScript();
  const existing = await readFile(path, 'utf8').catch(() => undefined);
  if (existing === script) {
    await chmod(path, 0o755);
    return { path, installed: true, reason: 'already installed' };
  }
  if (existing !== undefined && !existing.includes(MARKER) && opts.force !== true) {
    return {
      path,
      installed: false,
      reason: 'a different pre-commit hook exists; add `sealant guard` to it, or pass force to replace it',
    };
  }
  await mkdir(dir, { recursive: true });
  await writeFile(path, script, { mode: 0o755 });
  // writeFile's mode applies only to a new file.
  await chmod(path, 0o755);
  return { path, installed: true };
}
