/**
 * The base of every sealant command: the `--json` envelope (public API), one exit-code table
 * (the error's own), one-line errors on stderr, warnings, colour, and `--verbose`.
 *
 * A command extends `BaseCommand<Result>`, parses its flags with `await this.parse(MyCommand)`,
 * prints human output with `this.log`/`writeStdout` (both silent under `--json` or guarded by
 * `this.jsonEnabled()`), and returns a `Result`: that value is the `result` of the JSON envelope.
 * Deliberate failures are thrown as {@link SealantError}s; everything else becomes an
 * "internal error".
 */

import { Command, Errors, Flags } from '@oclif/core';

import { exitCodeOf, formatPath, SealantError, type ErrorCode } from '../errors.js';
import { exitWithStatus } from './exit.js';
import { toJson } from './output.js';
import { createStyle, type Style } from './style.js';

/** `--json` output of a command that succeeded. */
export interface SuccessEnvelope<T> {
  status: 'success';
  result: T;
  warnings: string[];
}

/** `--json` output of a command that failed. Absent location fields are omitted, never `null`. */
export interface ErrorEnvelope {
  status: 'error';
  /** Stable machine-readable code: a {@link SealantError} code, `USAGE` for bad flags/args, `INTERNAL` for bugs. */
  code: ErrorCode;
  message: string;
  exitCode: number;
  hint?: string;
  file?: string;
  /** Key path inside the document, rendered as users write it (`db.password`, `list[0]`). */
  path?: string;
  line?: number;
  col?: number;
}

/** Matches the rewrite oclif applies to errors thrown from a flag's `parse` function. */
const FLAG_PARSE_RE = /^Parsing --([\w-]+) ?\n\t([\s\S]*?)\nSee more help with --help$/;
// eslint-disable-next-line no-control-regex -- stripping ANSI colour oclif puts in its messages
const ANSI_RE = /\u001b\[[0-9;]*m/g;

/**
 * oclif's own argument/flag parse errors (and "command not found") are CLIErrors with exit code 2,
 * the `USAGE` status; others, such as a command module that fails to load (exit 1), are internal errors.
 */
function isOclifUsageError(err: unknown): err is Errors.CLIError {
  const usage = exitCodeOf('USAGE');
  return (
    err instanceof Errors.CLIError &&
    !(err instanceof Errors.ExitError) &&
    !(err instanceof Errors.ModuleLoadError) &&
    (err.oclif.exit ?? usage) === usage
  );
}

/** Collapses oclif's multi-line parse messages ("The following errors occurred:\n  …\nSee more help…") into one line. */
function oneLineUsage(message: string): string {
  const lines = message
    .replace(ANSI_RE, '')
    .split('\n')
    .map((l) => l.trim().replace(/\s+/g, ' '))
    .filter(
      (l) =>
        l !== '' &&
        l !== 'See more help with --help' &&
        !/^The following errors? occurred:$/.test(l) &&
        !l.startsWith('Note:') &&
        !l.startsWith('Alternatively,'),
    );
  let out = '';
  for (const line of lines) out += out === '' ? line : out.endsWith(':') ? ` ${line}` : `; ${line}`;
  return out;
}

/** First line of an unexpected error's message, capped: such messages are not vetted and may quote input. */
function internalMessage(err: unknown): string {
  const raw = err instanceof Error ? err.message : String(err);
  const first = (raw.split('\n')[0] ?? '').trim();
  return first.length > 200 ? `${first.slice(0, 200)}…` : first || 'unknown error';
}

/**
 * Maps any thrown value to the failure the user sees.
 *
 * - {@link SealantError}: its own code, exit code, location and hint.
 * - oclif flag/argument parse errors: code `USAGE`, exit 2, one line.
 * - anything else: code `INTERNAL`, exit 1, `internal error: <first line>`.
 *
 * @param commandId used in the usage hint (`see sealant <id> --help`).
 */
export function toErrorEnvelope(err: unknown, commandId?: string): ErrorEnvelope {
  const helpHint = `see \`sealant${commandId === undefined || commandId === '' ? '' : ` ${commandId}`} --help\``;
  if (err instanceof SealantError) {
    let message = err.message;
    const m = FLAG_PARSE_RE.exec(message);
    if (m) message = `--${m[1] ?? ''}: ${m[2] ?? ''}`;
    const env: ErrorEnvelope = { status: 'error', code: err.code, message, exitCode: err.exitCode };
    if (err.hint !== undefined) env.hint = err.hint;
    if (err.file !== undefined) env.file = err.file;
    if (err.path !== undefined && err.path.length > 0) env.path = formatPath(err.path);
    if (err.line !== undefined) env.line = err.line;
    if (err.line !== undefined && err.col !== undefined) env.col = err.col;
    return env;
  }
  if (isOclifUsageError(err)) {
    // Ids are colon-joined inside oclif; users type them with spaces.
    const notFound = /^command (\S+) not found$/.exec(err.message);
    if (notFound)
      return {
        status: 'error',
        code: 'USAGE',
        message: `unknown command "${(notFound[1] ?? '').replaceAll(':', ' ')}"`,
        exitCode: exitCodeOf('USAGE'),
        hint: 'see `sealant --help` for the list of commands',
      };
    return {
      status: 'error',
      code: 'USAGE',
      message: oneLineUsage(err.message),
      exitCode: exitCodeOf('USAGE'),
      hint: helpHint,
    };
  }
  // A plain Error thrown by a flag's custom `parse` function: still the user's input at fault.
  if (err instanceof Error) {
    const m = FLAG_PARSE_RE.exec(err.message);
    if (m)
      return {
        status: 'error',
        code: 'USAGE',
        message: `--${m[1] ?? ''}: ${(m[2] ?? '').split('\n')[0] ?? ''}`,
        exitCode: exitCodeOf('USAGE'),
        hint: helpHint,
      };
  }
  return {
    status: 'error',
    code: 'INTERNAL',
    message: `internal error: ${internalMessage(err)}`,
    exitCode: exitCodeOf('INTERNAL'),
  };
}

/** The one-line human form of an envelope (what follows `sealant: `). */
function humanLine(env: ErrorEnvelope, err: unknown): string {
  if (env.code === 'USAGE' && !(err instanceof SealantError)) return `${env.message} (${env.hint ?? 'see --help'})`;
  if (err instanceof SealantError) {
    if (env.message === err.message) return err.toOneLine();
    // The message was normalised (a flag parse error rewritten by oclif): render a copy.
    const copy = Object.assign(Object.create(Object.getPrototypeOf(err) as object) as SealantError, err, {
      message: env.message,
    });
    return copy.toOneLine();
  }
  return env.message;
}

/** True when `DEBUG` enables sealant's debug output (`sealant`, `sealant*`, `sealant:*`, `*`). */
export function debugEnabled(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const v = env.DEBUG;
  if (v === undefined || v === '') return false;
  return v
    .split(/[\s,]+/)
    .some((p) => p === '*' || p === 'sealant' || p.startsWith('sealant*') || p.startsWith('sealant:'));
}

/**
 * Abstract base command. `T` is the type `run()` returns, i.e. the `result` of the `--json`
 * success envelope; keep it a plain object (it is part of the public API).
 */
export abstract class BaseCommand<T extends object> extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    verbose: Flags.boolean({
      description: 'Show stack traces and extra detail on errors.',
      helpGroup: 'GLOBAL',
    }),
  };

  private readonly collectedWarnings: string[] = [];

  /** Does the work; the returned value is the `result` of the `--json` envelope. */
  abstract override run(): Promise<T>;

  /** `--verbose` was given (checked on raw argv so it works even when flag parsing failed) or `DEBUG=sealant*`. */
  protected get verbose(): boolean {
    const end = this.argv.indexOf('--');
    const idx = this.argv.indexOf('--verbose');
    return (idx !== -1 && (end === -1 || idx < end)) || debugEnabled();
  }

  /** Colour helpers for stdout (off under `--json`, without a TTY, or with `NO_COLOR`). */
  protected get stdoutStyle(): Style {
    return createStyle(process.stdout, { json: this.jsonEnabled() });
  }

  /** Colour helpers for stderr. */
  protected get stderrStyle(): Style {
    return createStyle(process.stderr);
  }

  /**
   * Reports a non-fatal problem: collected into `warnings` of the `--json` envelope, otherwise
   * printed at once as `warning: …` on stderr. Like errors, never put a secret value in `message`.
   */
  protected warnUser(message: string): void {
    this.collectedWarnings.push(message);
    if (!this.jsonEnabled()) process.stderr.write(`${this.stderrStyle.yellow('warning:')} ${message}\n`);
  }

  /** The warnings so far (for commands that want to summarise them). */
  protected get warnings(): readonly string[] {
    return this.collectedWarnings;
  }

  /** Routes oclif's own warnings (deprecations) through {@link warnUser}. */
  override warn(input: string | Error): string | Error {
    this.warnUser(typeof input === 'string' ? input : input.message);
    return input;
  }

  protected override toSuccessJson(result: unknown): SuccessEnvelope<unknown> {
    return { status: 'success', result, warnings: [...this.collectedWarnings] };
  }

  /** Plain, uncoloured JSON on stdout; bigints become numbers when safe, else strings. */
  protected override logJson(json: unknown): void {
    process.stdout.write(`${toJson(json)}\n`);
  }

  /**
   * Prints the failure (JSON envelope on stdout under `--json`, else one line on stderr plus an
   * optional `hint:` line) and sets the exit code. Returning (instead of rethrowing) lets oclif
   * finish normally, so stdout is flushed before the process exits.
   */
  protected override async catch(err: Error & { exitCode?: number }): Promise<void> {
    // `this.exit(n)` from a command: not a failure to report, just a status.
    if (err instanceof Errors.ExitError) throw err;
    // oclif warns "did not parse its arguments" in dev mode when parsing itself threw.
    this.parsed = true;
    exitWithStatus(reportError(err, { json: this.jsonEnabled(), verbose: this.verbose, commandId: this.id }));
  }
}

/** How {@link reportError} should print. */
export interface ReportOptions {
  /** Print the JSON envelope on stdout instead of lines on stderr. */
  json: boolean;
  /** Also print the stack (with causes) on stderr. */
  verbose: boolean;
  /** The command that failed, for the usage hint. */
  commandId?: string;
}

/**
 * Prints a failure the one way sealant prints failures: the `--json` error envelope on stdout,
 * or `sealant: <one line>` (+ `hint: …`) on stderr; the stack only when verbose.
 *
 * @returns the exit code to use.
 */
export function reportError(err: unknown, opts: ReportOptions): number {
  const env = toErrorEnvelope(err, opts.commandId);
  if (opts.json) {
    process.stdout.write(`${toJson(env)}\n`);
  } else {
    const s = createStyle(process.stderr);
    const usage = env.code === 'USAGE' && !(err instanceof SealantError);
    let out = `${s.red('sealant:')} ${humanLine(env, err)}\n`;
    // oclif usage errors fold the hint into their one line.
    if (env.hint !== undefined && !usage) out += `${s.dim('hint:')} ${env.hint}\n`;
    process.stderr.write(out);
  }
  if (opts.verbose) process.stderr.write(`${stackOf(err)}\n`);
  return env.exitCode;
}

/** Stack with the cause chain, for `--verbose` only. */
function stackOf(err: unknown): string {
  const parts: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && depth < 5; depth++) {
    parts.push(cur instanceof Error ? (cur.stack ?? `${cur.name}: ${cur.message}`) : String(cur));
    cur = cur instanceof Error ? cur.cause : undefined;
    if (cur !== undefined) parts.push('Caused by:');
  }
  return parts.join('\n');
}
