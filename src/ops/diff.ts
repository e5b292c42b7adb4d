/**
 * `diff`: the review of the SOPS files that changed between two git revisions (or a revision and
 * the working tree). git is asked for the changed paths (`git diff --name-status -M -z`) and for
 * each old side (`git show REV:path`); the comparison itself is `review/`.
 *
 * git is run with `execFile` (no shell) and `-z` output; the user's PATHS are passed as git
 * pathspecs, so they keep git's meaning; revisions are checked with `rev-parse --verify` first so a
 * typo is a clear usage error rather than a confusing git message.
 */
import { mustGit, runGit } from '../git/run.js';
import { readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { environmentFor, loadProjectConfig } from '../config/index.js';
import type { EnvironmentConfig, ProjectConfig } from '../config/index.js';
import type { KeySources } from '../keys/datakey.js';
import { fingerprinter, reviewFileKeyed } from '../review/keyed.js';
import { renderHuman, renderMarkdown } from '../review/render.js';
import { reviewFile, type FileInput, type FileReview } from '../review/semantic.js';
import { formatFromPath, sopsBlockOf } from '../stores/index.js';
import type { FileFormat } from '../stores/store.js';
import { keySources, type KeyOptions, type OpsContext } from './context.js';

/** When to decrypt: `auto` = with age identities when there are any (never KMS/PGP). */
export type KeyMode = 'auto' | 'keys' | 'no-keys';

/** Options of {@link diffRevisions}. */
export interface DiffOptions extends KeyOptions {
  /** Old revision (default `HEAD`). */
  revA?: string;
  /** New revision (default: the working tree). */
  revB?: string;
  /** Compare the merge base of `base` and HEAD with HEAD (a PR's view). Excludes revA/revB. */
  base?: string;
  /** Limit to these pathspecs. */
  paths?: readonly string[];
  keys?: KeyMode;
  showValues?: boolean;
  /** Fingerprint key (tests); default: random per run. */
  fingerprintKey?: Uint8Array;
}

/** The result of `sealant diff --json` (public API). */
export interface DiffReport {
  /** The revisions compared: `to` is `working tree` when the working tree is the new side. */
  from: string;
  to: string;
  /** `keyed` when at least one file was compared with keys. */
  mode: 'keyless' | 'keyed' | 'mixed';
  files: FileReview[];
  /** Files with alerts (plaintext committed, values in clear, MAC mismatch). */
  alerts: number;
}

/** git's stdout as text, whatever its exit code. */
async function gitText(
  args: readonly string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await runGit(args, { cwd });
  return { code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr };
}

async function mustGitText(args: readonly string[], cwd: string, what: string): Promise<string> {
  return (await mustGit(args, { cwd, what })).toString('utf8');
}

/** @throws UsageError when `rev` names no commit. */
async function verifyRev(rev: string, cwd: string): Promise<string> {
  // "--end-of-options" keeps a revision starting with "-" from being read as an option.
  const r = await gitText(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`], cwd);
  if (r.code !== 0)
    throw new UsageError(`unknown revision "${rev}"`, {
      hint: 'name a commit, branch or tag (fetch it first in a shallow CI clone)',
    });
  return r.stdout.trim();
}

/** One changed path as git reports it. */
export interface ChangedPath {
  status: string;
  path: string;
  oldPath: string;
}

/** Parses `git diff --name-status -z` output (renames and copies carry two paths). */
export function parseNameStatus(out: string): ChangedPath[] {
  const parts = out.split('\0');
  const changes: ChangedPath[] = [];
  for (let i = 0; i < parts.length;) {
    const status = parts[i++] ?? '';
    if (status === '') continue;
    const first = parts[i++] ?? '';
    if (status.startsWith('R') || status.startsWith('C'))
      changes.push({ status: status[0]!, oldPath: first, path: parts[i++] ?? '' });
    else changes.push({ status: status[0]!, oldPath: first, path: first });
  }
  return changes;
}

/**
 * The bytes of `rev:path`, or undefined when it does not exist there. Bytes, not text: the
 * review decodes them strictly, so two revisions that differ only in bytes that are not UTF-8
 * cannot look alike.
 */
async function showAt(rev: string, path: string, root: string): Promise<Buffer | undefined> {
  const r = await runGit(['show', `${rev}:${path}`], { cwd: root });
  return r.code === 0 ? r.stdout : undefined;
}

async function readWorking(root: string, path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(join(root, path));
  } catch {
    return undefined;
  }
}

/** Resolves which revisions to compare. @throws UsageError for unknown revisions or `--base` with revisions. */
async function resolveRange(opts: DiffOptions, root: string): Promise<{ from: string; to: string | undefined }> {
  if (opts.base !== undefined) {
    if (opts.revA !== undefined)
      throw new UsageError('--base cannot be combined with revisions', {
        hint: 'use either `sealant diff --base origin/main` or `sealant diff REV_A REV_B`',
      });
    await verifyRev(opts.base, root);
    const mergeBase = (
      await mustGitText(
        ['merge-base', '--end-of-options', opts.base, 'HEAD'],
        root,
        `no merge base between ${opts.base} and HEAD`,
      )
    ).trim();
    return { from: mergeBase, to: 'HEAD' };
  }
  const from = opts.revA ?? 'HEAD';
  await verifyRev(from, root);
  if (opts.revB !== undefined) await verifyRev(opts.revB, root);
  return { from, to: opts.revB };
}

async function changedPaths(
  cwd: string,
  from: string,
  to: string | undefined,
  paths: readonly string[],
): Promise<ChangedPath[]> {
  const spec = paths.length === 0 ? [] : ['--', ...paths];
  const args = [
    'diff',
    '--name-status',
    '-z',
    '-M',
    '--no-ext-diff',
    '--no-textconv',
    from,
    ...(to === undefined ? [] : [to]),
    ...spec,
  ];
  const changes = parseNameStatus(await mustGitText(args, cwd, 'git diff failed'));
  if (to !== undefined) return changes;
  // The working tree side: a new file nobody has `git add`ed yet is exactly where plaintext hides.
  const untracked = await mustGitText(
    ['ls-files', '-z', '--others', '--exclude-standard', '--full-name', ...spec],
    cwd,
    'git ls-files failed',
  );
  for (const p of untracked.split('\0')) if (p !== '') changes.push({ status: 'A', path: p, oldPath: p });
  return changes;
}

/**
 * True when `content` parses with a `sops` block; any other parse failure means "not a SOPS
 * file". Text-format content that is not UTF-8 but mentions `sops` counts: reviewed, its side
 * is reported as unreadable instead of the file being left out of the report.
 */
function hasSopsBlock(content: FileInput['oldText'], format: FileFormat): boolean {
  return content !== undefined && sopsBlockOf(content, format) !== undefined;
}

function ownedByConfig(config: ProjectConfig | undefined, absPath: string, cwd: string): boolean {
  if (config === undefined) return false;
  try {
    return environmentFor(config, absPath, cwd) !== undefined;
  } catch {
    return true; // matched two environments: certainly a secrets file
  }
}

/** The environment whose rule and recipients the file must have (none when two claim it: `validate` reports that). */
function authorityOf(config: ProjectConfig | undefined, absPath: string, cwd: string): EnvironmentConfig | undefined {
  if (config === undefined) return undefined;
  try {
    return environmentFor(config, absPath, cwd);
  } catch {
    return undefined;
  }
}

/** Key sources for the run, or undefined for a keyless run. */
async function sourcesFor(ctx: OpsContext, opts: DiffOptions): Promise<KeySources | undefined> {
  const mode = opts.keys ?? 'auto';
  if (mode === 'no-keys') return undefined;
  const sources = await keySources(ctx, opts);
  if (mode === 'keys') return sources;
  // auto: age identities only — a CI job without keys must not wait on AWS or gpg-agent.
  if (sources.age.recipients().length === 0) return undefined;
  return { age: sources.age };
}

/**
 * Reviews every SOPS file (or file the project config owns) that changed between two revisions.
 * @throws UsageError for unknown revisions or conflicting options; GitError when git fails or
 * `cwd` is not in a work tree; NoKeyError/DecryptionError under `keys: 'keys'` when a file
 * cannot be opened.
 */
export async function diffRevisions(ctx: OpsContext, opts: DiffOptions = {}): Promise<DiffReport> {
  const root = (await mustGitText(['rev-parse', '--show-toplevel'], ctx.cwd, 'not in a git work tree')).trim();
  const { from, to } = await resolveRange(opts, root);
  const config = await loadProjectConfig({ cwd: ctx.cwd, env: ctx.env }).catch(() => undefined);
  const sources = await sourcesFor(ctx, opts);
  const fingerprint = sources === undefined ? undefined : fingerprinter(opts.fingerprintKey);
  const reviewOpts = {
    showValues: opts.showValues ?? false,
    ...(fingerprint === undefined ? {} : { fingerprint }),
    strict: opts.keys === 'keys',
  };
  const files: FileReview[] = [];
  for (const change of await changedPaths(ctx.cwd, from, to, opts.paths ?? [])) {
    const input = await inputFor(change, root, from, to);
    const abs = resolve(root, change.path);
    if (
      !hasSopsBlock(input.oldText, input.format!) &&
      !hasSopsBlock(input.newText, input.format!) &&
      !ownedByConfig(config, abs, ctx.cwd)
    )
      continue;
    input.file = relative(root, abs) || change.path;
    const authority = authorityOf(config, abs, ctx.cwd);
    const opts = authority === undefined ? reviewOpts : { ...reviewOpts, authority };
    files.push(sources === undefined ? reviewFile(input, opts) : await reviewFileKeyed(input, sources, opts));
  }
  const modes = new Set(files.map((f) => f.mode));
  return {
    from,
    to: to ?? 'working tree',
    mode: modes.size > 1 ? 'mixed' : modes.has('keyed') ? 'keyed' : 'keyless',
    files,
    alerts: files.filter((f) => f.alerts.length > 0).length,
  };
}

async function inputFor(change: ChangedPath, root: string, from: string, to: string | undefined): Promise<FileInput> {
  const oldText = change.status === 'A' ? undefined : await showAt(from, change.oldPath, root);
  const newText =
    change.status === 'D'
      ? undefined
      : to === undefined
        ? await readWorking(root, change.path)
        : await showAt(to, change.path, root);
  const input: FileInput = { file: change.path, format: formatFromPath(change.path) };
  if (oldText !== undefined) input.oldText = oldText;
  if (newText !== undefined) input.newText = newText;
  if (change.oldPath !== change.path) input.previousFile = change.oldPath;
  return input;
}

/** The review as people read it (`human`) or as Markdown for a pull request or job summary. */
export function diffReportText(report: DiffReport, format: 'human' | 'markdown'): string {
  return format === 'markdown' ? renderMarkdown(report) : renderHuman(report);
}
