/**
 * `git install`: wires sealant into the current repository — `.gitattributes` lines that route
 * the files the project config owns through the `sealant` diff and merge drivers, the local git
 * config that defines those drivers, and (optionally) the pre-commit hook.
 *
 * Only the repository's own config (`git config --local`) is touched: the drivers call this
 * sealant by absolute path, which is a per-clone fact, and `.gitattributes` (committed) only
 * names the driver, so a clone without the config falls back to git's plain diff and merge.
 */
import { mustGit } from '../git/run.js';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ConfigNotFoundError, loadProjectConfig, type EnvironmentConfig, type ProjectConfig } from '../config/index.js';
import { filesOf } from './config-files.js';
import { writeFileAtomic } from '../fsx/atomic.js';
import { installPreCommitHook } from '../git/hooks.js';
import type { OpsContext } from './context.js';

/** How the drivers start sealant: absolute paths, so git finds it from any shell. */
export interface SealantInvocation {
  /** The node binary (`process.execPath`). */
  node: string;
  /** sealant's `bin/run.js`. */
  bin: string;
}

/** Options of {@link installGitIntegration}. */
export interface GitInstallOptions {
  invocation: SealantInvocation;
  /** Install the pre-commit hook too (default true). */
  hook?: boolean;
  /** Replace a foreign pre-commit hook. */
  force?: boolean;
}

/** The result of `sealant git install --json` (public API). */
export interface GitInstallResult {
  repository: string;
  attributes: { path: string; added: string[]; kept: number };
  config: { key: string; value: string }[];
  hook: { installed: boolean; path?: string; reason?: string };
  warnings: string[];
}

/** The `.gitattributes` suffix naming both drivers. */
const ATTRS = 'diff=sealant merge=sealant';

async function git(args: readonly string[], cwd: string): Promise<string> {
  return (await mustGit(args, { cwd, hint: 'run sealant git install inside a git work tree' })).toString('utf8');
}

/** Quotes for the POSIX shell git runs drivers with. */
function shq(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The git config entries that define the drivers. */
export function driverConfig(inv: SealantInvocation): { key: string; value: string }[] {
  const run = `${shq(inv.node)} ${shq(inv.bin)}`;
  return [
    { key: 'diff.sealant.textconv', value: `${run} git textconv` },
    // A cached view would outlive a change of identities (keyless ↔ decrypted).
    { key: 'diff.sealant.cachetextconv', value: 'false' },
    { key: 'merge.sealant.name', value: 'sealant: merge SOPS files key by key' },
    { key: 'merge.sealant.driver', value: `${run} git merge-driver %O %A %B %P` },
  ];
}

/** Gitattributes patterns need `/` and no spaces; a glob with whitespace cannot be written. */
function patternLine(prefix: string, glob: string, attrs: string): string | undefined {
  if (/\s/.test(glob)) return undefined;
  const g = glob.startsWith('/') ? glob.slice(1) : glob;
  return `${prefix === '' ? '' : `${prefix}/`}${g} ${attrs}`;
}

/** The attribute lines one environment needs (globs, or the existing files for a regex rule). */
async function linesFor(
  config: ProjectConfig,
  env: EnvironmentConfig,
  repository: string,
  warnings: string[],
): Promise<string[]> {
  const prefix = relative(repository, config.root).split('\\').join('/');
  if (env.files.length > 0) {
    const include = env.files.filter((g) => !g.startsWith('!')).map((g) => patternLine(prefix, g, ATTRS));
    // `!attr` = unspecified: an excluded file gets git's default diff and merge back.
    const exclude = env.files
      .filter((g) => g.startsWith('!'))
      .map((g) => patternLine(prefix, g.slice(1), '!diff !merge'));
    const lines = [...include, ...exclude];
    if (lines.includes(undefined))
      warnings.push(
        `environment "${env.name}": a glob with spaces cannot be written to .gitattributes; add it by hand`,
      );
    return lines.filter((l): l is string => l !== undefined);
  }
  if (env.pathRegex === undefined) {
    warnings.push(`environment "${env.name}" matches every file: no .gitattributes line written for it`);
    return [];
  }
  // A regex has no gitattributes form: list the files that exist now.
  warnings.push(
    `environment "${env.name}" selects files by path_regex: its existing files are listed one by one; run sealant git install again after adding files`,
  );
  const files = await filesOf(config, env);
  const lines = files.map((f) => patternLine('', relative(repository, f).split('\\').join('/'), ATTRS));
  return lines.filter((l): l is string => l !== undefined);
}

/** Adds missing lines to `.gitattributes`, keeping every existing line. */
async function writeAttributes(path: string, lines: string[]): Promise<{ added: string[]; kept: number }> {
  const existing = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return '';
    throw e;
  });
  const have = new Set(existing.split('\n').map((l) => l.trim().replace(/\s+/g, ' ')));
  const added = [...new Set(lines)].filter((l) => !have.has(l));
  if (added.length > 0) {
    const sep = existing === '' || existing.endsWith('\n') ? '' : '\n';
    await writeFileAtomic(path, `${existing}${sep}${added.join('\n')}\n`);
  }
  return { added, kept: existing.split('\n').filter((l) => l.trim() !== '').length };
}

/**
 * Installs the git integration in the repository around `ctx.cwd`.
 * @throws GitError outside a git work tree or when `git config` fails; ConfigNotFoundError
 * when there is no `.sealant.yaml`/`.sops.yaml`; ConfigError for an invalid one; WriteError.
 */
export async function installGitIntegration(ctx: OpsContext, opts: GitInstallOptions): Promise<GitInstallResult> {
  const repository = (await git(['rev-parse', '--show-toplevel'], ctx.cwd)).trim();
  const config = await loadProjectConfig({ cwd: ctx.cwd, env: ctx.env });
  if (config === undefined)
    throw new ConfigNotFoundError('no .sealant.yaml or .sops.yaml found', {
      hint: 'run sealant git install in a project with a config file',
    });
  const warnings: string[] = [];
  const lines: string[] = [];
  for (const env of config.environments) lines.push(...(await linesFor(config, env, repository, warnings)));
  const attrPath = join(repository, '.gitattributes');
  const attributes = { path: attrPath, ...(await writeAttributes(attrPath, lines)) };
  const entries = driverConfig(opts.invocation);
  for (const { key, value } of entries) await git(['config', '--local', key, value], repository);
  const hook = await installHook(repository, opts, warnings);
  return { repository, attributes, config: entries, hook, warnings };
}

async function installHook(
  repository: string,
  opts: GitInstallOptions,
  warnings: string[],
): Promise<GitInstallResult['hook']> {
  if (opts.hook === false) return { installed: false, reason: 'skipped (--no-hook)' };
  const r = await installPreCommitHook(repository, opts.force === undefined ? {} : { force: opts.force });
  if (!r.installed && r.reason !== undefined) warnings.push(`pre-commit hook: ${r.reason}`);
  return r.reason === undefined
    ? { installed: r.installed, path: r.path }
    : { installed: r.installed, path: r.path, reason: r.reason };
}
