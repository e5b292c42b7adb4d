/**
 * Running a command with secrets, as `sops exec-env` and `sops exec-file` do: in its environment
 * (nothing touches the disk), or in a file the command is given the path of (a 0600 file in a
 * private 0700 directory, or a FIFO), removed when the command ends.
 *
 * The command is spawned without a shell (no quoting surprises, no injection through values),
 * with sealant's stdin, stdout and stderr, and receives the SIGINT/SIGTERM/SIGHUP sealant gets.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants, openSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Socket } from 'node:net';
import { basename, join } from 'node:path';

import { exitCodeOf, formatPath, SealantError, signalExitStatus, UsageError } from '../errors.js';
import { walk, type MapNode } from '../format/tree.js';
import { withPrivateTempDir } from '../fsx/private-temp.js';
import type { KeySources } from '../keys/datakey.js';
import { envVars, renderDotenv } from '../render/dotenv.js';
import { renderJson, renderYaml } from '../render/json.js';
import { DEFAULT_DOTENV_NAMING, type DotenvNaming } from '../render/settings.js';
import { buildAuditEvent, readAuditSources, writeAuditEvent } from './audit.js';
import type { OpsContext } from './context.js';
import { checkUncovered, loadEnvironment } from './render.js';

/** How the command ended: exactly one of the two is non-null. */
export interface ExecOutcome {
  /** The command's exit status when it exited. */
  exitCode: number | null;
  /** The signal that killed it. */
  signal: NodeJS.Signals | null;
}

/** The command could not be started. Exit codes are a shell's: `EXEC` (not found) 127, `EXEC_NOT_EXECUTABLE` 126. */
export class ExecError extends SealantError {
  constructor(
    code: 'EXEC' | 'EXEC_NOT_EXECUTABLE' | 'EXEC_FIFO',
    message: string,
    options: { cause?: unknown; hint?: string } = {},
  ) {
    super(code, message, options);
  }
}

/** Signals sealant passes on to the command while it runs. */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** What every exec variant needs. */
export interface ExecBase {
  command: string;
  args: readonly string[];
  /** The base environment of the command (usually sealant's own). */
  env: Readonly<Record<string, string | undefined>>;
  /** Default `inherit`: the command uses sealant's terminal/pipes. `pipe` is for tests. */
  stdio?: 'inherit' | 'pipe';
  /** Receives the child right after spawn (tests use it with `stdio: 'pipe'`). */
  onSpawn?: (child: ChildProcess) => void;
}

/** Options of {@link execWithEnvironment}. */
export interface ExecEnvOptions extends ExecBase {
  /** Variables added to (and overriding) `env`, in order; a later duplicate name wins. */
  vars: readonly (readonly [string, string])[];
}

/**
 * Runs `command` with `vars` added to its environment and waits for it to end. Nothing is written
 * to disk.
 *
 * While the command runs, SIGINT/SIGTERM/SIGHUP sent to sealant are passed on to it and sealant
 * keeps waiting, so the command decides how to stop. A Ctrl-C in a terminal already reaches the
 * whole foreground process group, so the command then sees SIGINT twice in quick succession;
 * programs that treat a second Ctrl-C as "force quit" may do so.
 *
 * @returns how the command ended.
 * @throws {ExecError} if the command cannot be started (127 not found, 126 not executable).
 * @throws {UsageError} if a variable name is empty or holds `=` or NUL, or a value holds NUL
 *   (the OS cannot pass them; the message names the variable, never the value).
 */
export async function execWithEnvironment(opts: ExecEnvOptions): Promise<ExecOutcome> {
  const env = childEnv(opts.env);
  for (const [name, value] of opts.vars) {
    if (name === '' || name.includes('=') || name.includes('\0'))
      throw new UsageError(`cannot pass variable "${name.replaceAll('\0', '\\0')}": invalid name`);
    if (value.includes('\0')) throw new UsageError(`cannot pass variable ${name}: its value contains a NUL byte`);
    env[name] = value;
  }
  const forward = forwardSignals();
  try {
    return await runChild(opts, opts.args, env, forward);
  } finally {
    forward.stop();
  }
}

/** Options of {@link execWithFile}. */
export interface ExecFileOptions extends ExecBase {
  /** The rendered file (dotenv, JSON, YAML…). */
  content: string;
  /** Base name of the file in the private directory (`secrets.env`); some programs need the extension. */
  fileName: string;
  /** Replaced by the file's path in every argument that contains it; default `{}`. */
  placeholder?: string;
  /** Expose a FIFO instead of a regular file. */
  useFifo?: boolean;
}

/**
 * Runs `command` with `content` available at a private path, like `sops exec-file`: every
 * occurrence of the placeholder in `args` becomes the path (the path is appended as the last
 * argument when no argument holds it). The file lives in a fresh 0700 directory and is removed
 * when the command ends, when this throws, and on SIGINT/SIGTERM/SIGHUP.
 *
 * - Regular file (default): mode 0600; the plaintext sits on disk (usually tmpfs under `/tmp` on
 *   Linux, a real disk elsewhere) while the command runs; the command may read it any number of
 *   times, seek, stat it, or re-open it.
 * - FIFO (`useFifo`): the plaintext only ever goes through a kernel pipe buffer and never
 *   touches a disk, but it can be read exactly once, from start to end: a program that stats
 *   the size, seeks or mmaps fails, and one that opens the path a second time blocks there
 *   (no second writer will come), as with `sops exec-file`. The write end is opened once the
 *   command has the path open for reading; a command that never opens it costs nothing.
 *
 * If sealant itself receives one of those signals while the command runs, the signal is passed
 * on to the command, then the private directory is removed and sealant exits at once with
 * 128+n (the temp-dir guard's behaviour), without waiting for the command.
 *
 * @returns how the command ended.
 * @throws {UsageError} if `fileName` is not a plain file name.
 * @throws {ExecError} if the command cannot be started, or the FIFO cannot be created.
 */
export async function execWithFile(opts: ExecFileOptions): Promise<ExecOutcome> {
  const name = opts.fileName;
  if (
    name === '' ||
    name === '.' ||
    name === '..' ||
    basename(name) !== name ||
    name.includes('\\') ||
    name.includes('\0')
  ) {
    throw new UsageError(`--file must be a plain file name, not a path: "${name}"`, {
      hint: 'the file is always created in a private temp directory',
    });
  }
  // Installed before the temp-dir guard's own handlers (listeners run in order), so the command
  // gets the signal even though the guard then ends the process.
  const forward = forwardSignals();
  try {
    return await withPrivateTempDir(async (dir) => {
      const path = join(dir, name);
      const args = withPath(opts.args, opts.placeholder ?? '{}', path);
      if (opts.useFifo === true) return await runWithFifo(opts, path, args, forward);
      await writePrivateFile(path, opts.content);
      return await runChild(opts, args, childEnv(opts.env), forward);
    });
  } finally {
    forward.stop();
  }
}

/** `args` with `placeholder` replaced by `path`, or `path` appended if no argument has it. */
export function withPath(args: readonly string[], placeholder: string, path: string): string[] {
  if (placeholder === '' || !args.some((a) => a.includes(placeholder))) return [...args, path];
  return args.map((a) => a.replaceAll(placeholder, path));
}

async function writePrivateFile(path: string, content: string): Promise<void> {
  // O_EXCL in a directory only we can enter: the file is new, and 0600 from its first byte.
  const fh = await open(path, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
  try {
    await fh.chmod(0o600);
    await fh.writeFile(content);
  } finally {
    await fh.close();
  }
}

async function runWithFifo(
  opts: ExecFileOptions,
  path: string,
  args: string[],
  forward: SignalForwarder,
): Promise<ExecOutcome> {
  await mkfifo(path);
  const feeder = feedFifo(path, opts.content);
  try {
    return await runChild(opts, args, childEnv(opts.env), forward, feeder.start);
  } finally {
    // The command may have ended without opening the FIFO, or without reading all of it: the
    // rest is dropped with the pipe.
    feeder.stop();
  }
}

/** Creates the FIFO with the `mkfifo` binary (Node has no mkfifo), mode 0600. */
function mkfifo(path: string): Promise<void> {
  return new Promise((done, fail) => {
    execFile('mkfifo', ['-m', '600', path], (err) => {
      if (err === null) return done();
      const code = typeof err.code === 'string' ? err.code : `exit ${String(err.code)}`;
      fail(
        new ExecError('EXEC_FIFO', `cannot create the FIFO: mkfifo failed (${code})`, {
          cause: err,
          hint: 'drop --fifo to use a private 0600 file',
        }),
      );
    });
  });
}

/**
 * Feeds `content` to the first reader of the FIFO at `path`, never blocking a thread: the write
 * end is opened non-blocking (ENXIO until a reader has the path open, so it is retried) and
 * written through the event loop. A blocking open would wait in libuv's thread pool for a
 * reader that may never come, and Node cannot exit while one of its threads waits: SIGTERM
 * before the command opened the FIFO would never end sealant.
 */
function feedFifo(path: string, content: string): { start: () => void; stop: () => void } {
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  let pipe: Socket | undefined;
  const start = (): void => {
    if (stopped) return;
    let fd: number;
    try {
      fd = openSync(path, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
    } catch (err) {
      // Any other failure (the FIFO removed) cannot be reported to the command; it sees an empty read.
      if (isErrno(err, 'ENXIO')) retry = setTimeout(start, 10);
      return;
    }
    pipe = new Socket({ fd, readable: false, writable: true });
    pipe.on('error', () => undefined); // EPIPE: the reader left early, which is its right
    pipe.end(content);
  };
  return {
    start,
    stop: () => {
      stopped = true;
      clearTimeout(retry);
      pipe?.destroy();
    },
  };
}

/** The base environment without unset entries (spawn would pass the string "undefined"). */
function childEnv(base: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  return env;
}

/** Passes signals sealant receives to the current child. */
interface SignalForwarder {
  attach(child: ChildProcess): void;
  stop(): void;
}

function forwardSignals(): SignalForwarder {
  let child: ChildProcess | undefined;
  let pending: NodeJS.Signals | undefined;
  const handler = (signal: NodeJS.Signals): void => {
    // A listener replaces Node's default "terminate": sealant stays to report the child's status.
    if (child === undefined)
      pending = signal; // arrived while the file was being prepared
    else if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const signals = FORWARDED_SIGNALS.filter((s) => !(process.platform === 'win32' && s === 'SIGHUP'));
  for (const s of signals) process.on(s, handler);
  return {
    attach: (c) => {
      child = c;
      if (pending !== undefined) c.kill(pending);
    },
    stop: () => {
      for (const s of signals) process.off(s, handler);
    },
  };
}

/** Spawns the command and resolves when it has ended (`exit`, not `close`: a grandchild may keep the pipes open). */
function runChild(
  opts: ExecBase,
  args: readonly string[],
  env: Record<string, string>,
  forward: SignalForwarder,
  onStarted?: () => void,
): Promise<ExecOutcome> {
  return new Promise((done, fail) => {
    const child = spawn(opts.command, [...args], { env, stdio: opts.stdio ?? 'inherit', shell: false });
    forward.attach(child);
    child.once('error', (err) => fail(spawnError(opts.command, err)));
    child.once('spawn', () => {
      opts.onSpawn?.(child);
      onStarted?.();
    });
    child.once('exit', (exitCode, signal) => done({ exitCode, signal }));
  });
}

function spawnError(command: string, err: Error): ExecError {
  if (isErrno(err, 'ENOENT')) return new ExecError('EXEC', `command not found: ${command}`, { cause: err });
  if (isErrno(err, 'EACCES'))
    return new ExecError('EXEC_NOT_EXECUTABLE', `command is not executable: ${command}`, { cause: err });
  return new ExecError(
    'EXEC_NOT_EXECUTABLE',
    `cannot run ${command}: ${(err as NodeJS.ErrnoException).code ?? 'unexpected error'}`,
    {
      cause: err,
    },
  );
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === code;
}

// ---------------------------------------------------------------------------------------------
// `sealant exec`: environment → variables or a rendered file → audit event → command.

/** Formats `exec --file` can render. */
export const EXEC_FILE_FORMATS = ['dotenv', 'json', 'yaml'] as const;
export type ExecFileFormat = (typeof EXEC_FILE_FORMATS)[number];

/** Options of {@link execInEnvironment}. */
export interface ExecInEnvironmentOptions {
  /** Environment name in `.sealant.yaml`. */
  env: string;
  sources: KeySources;
  configPath?: string;
  strict?: boolean;
  command: string;
  args: readonly string[];
  /** Expose the environment as a file instead of variables. */
  file?: { name: string; format?: ExecFileFormat; fifo?: boolean; placeholder?: string };
  /** Audit log file; absent: the audit line goes to `stderr`. */
  auditLog?: string;
  stderr: { write(chunk: string): unknown };
}

/** What {@link execInEnvironment} did (names only). */
export interface ExecReport extends ExecOutcome {
  environment: string;
  /** Variable names, or key paths of a JSON/YAML file. */
  keys: string[];
}

/**
 * Decrypts environment `opts.env`, writes the audit event, then runs the command with the
 * values as variables (named by the environment's `render.dotenv` settings) or in a file.
 *
 * The audit event is written before the command starts: if it cannot be written, no secret is
 * exposed.
 *
 * Values the MAC does not cover (`""`, null) are named in a warning, and under `strict` stop the
 * run before the command starts.
 *
 * @throws ConfigError/NoKeyError/MacMismatchError… from loading the environment,
 *   MacUncoveredError under `strict` for values the MAC does not cover, WriteError if
 *   the audit log cannot be written, ExecError if the command cannot be started, UsageError for a
 *   bad `--file` name.
 */
export async function execInEnvironment(ctx: OpsContext, opts: ExecInEnvironmentOptions): Promise<ExecReport> {
  const loaded = await loadEnvironment(ctx, {
    env: opts.env,
    sources: opts.sources,
    configPath: opts.configPath,
    strict: opts.strict,
  });
  checkUncovered(loaded, ctx, opts.strict === true);
  const naming: DotenvNaming = { ...DEFAULT_DOTENV_NAMING, ...loaded.environment.render?.dotenv };
  const base = { command: opts.command, args: opts.args, env: ctx.env };
  const file = opts.file;
  const format = file === undefined ? undefined : (file.format ?? formatFromName(file.name));
  const vars = file === undefined || format === 'dotenv' ? envVars(loaded.tree, naming) : undefined;
  const keys = vars !== undefined ? vars.map(([name]) => name) : leafPaths(loaded.tree);
  // Rendered before the audit line: a value no format can hold fails the run with nothing exposed.
  const content =
    format === undefined
      ? undefined
      : format === 'dotenv'
        ? renderDotenv(loaded.tree, naming)
        : format === 'json'
          ? renderJson(loaded.tree)
          : renderYaml(loaded.tree);
  const sources = await readAuditSources(ctx.cwd, loaded.files);
  const event = buildAuditEvent({
    event: 'exec',
    environment: loaded.environment.name,
    files: sources,
    keys,
    command: basename(opts.command),
    env: ctx.env,
    now: ctx.now(),
  });
  await writeAuditEvent(event, {
    ...(opts.auditLog === undefined ? {} : { auditLog: opts.auditLog }),
    stderr: opts.stderr,
  });
  const outcome =
    file === undefined || content === undefined
      ? await execWithEnvironment({ ...base, vars: vars ?? [] })
      : await execWithFile({
          ...base,
          content,
          fileName: file.name,
          ...(file.placeholder === undefined ? {} : { placeholder: file.placeholder }),
          useFifo: file.fifo === true,
        });
  return { ...outcome, environment: loaded.environment.name, keys };
}

/** `.json` → json, `.yaml`/`.yml` → yaml, anything else (`.env`, no extension) → dotenv. */
export function formatFromName(name: string): ExecFileFormat {
  const lower = name.toLowerCase();
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return 'yaml';
  return 'dotenv';
}

/** Dotted paths of the tree's leaves (`db.password`, `hosts[0]`): what a JSON/YAML file exposes. */
function leafPaths(tree: MapNode): string[] {
  const out: string[] = [];
  for (const v of walk(tree)) if (v.kind === 'scalar') out.push(formatPath(v.path));
  return out;
}

/**
 * The exit status a shell reports for `outcome`: the exit code, or 128 + the signal's number
 * when a signal killed the command (`SIGTERM` → 143).
 */
export function shellStatus(outcome: ExecOutcome): number {
  if (outcome.exitCode !== null) return outcome.exitCode;
  return outcome.signal === null ? exitCodeOf('INTERNAL') : signalExitStatus(outcome.signal);
}
