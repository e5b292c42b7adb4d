/**
 * Audit events: one JSON line per `render`, `exec` or `krm` run saying who (user, CI identity)
 * exposed which environment, from which exact file versions (git blob ids) and under which key
 * names. The event never holds a value: `keys` are names only, and nothing in it is derived from
 * the plaintext.
 *
 * {@link buildAuditEvent} is pure (clock and environment are passed in); {@link writeAuditEvent}
 * is the one side effect.
 */
import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

import { ReadError, WriteError } from '../errors.js';

/** What was done with the decrypted environment. */
export type AuditEventKind = 'render' | 'exec' | 'krm';

/** One source file of the environment, as it was when it was decrypted. */
export interface AuditFile {
  /** Path relative to the working directory. */
  path: string;
  /** Git blob id of the file's bytes (`git hash-object FILE`). */
  blob: string;
  /** The master keys that unwrapped its data key (`age:age1…`, `kms:arn…`). */
  unwrappedBy: string[];
}

/** The audit line (public format: tools parse it; add fields, never rename them). */
export interface AuditEvent {
  /** RFC 3339, UTC. */
  time: string;
  event: AuditEventKind;
  environment: string;
  files: AuditFile[];
  /** Key paths (`db.password`) or variable names (`DB_PASSWORD`) exposed — never values. */
  keys: string[];
  /** Where the output went: a path or `stdout`. */
  output?: string;
  /** `exec` only: the program run (its name only; arguments may hold anything, so never them). */
  command?: string;
  /** CI identity variables that are set (names as the CI system spells them). */
  ci?: Record<string, string>;
  /** `USER`, else `LOGNAME`. */
  user?: string;
}

/**
 * CI variables that identify who ran what, where. Identity and run ids only: these are printed by
 * the CI systems themselves, whereas arbitrary variables could hold secrets.
 */
export const CI_IDENTITY_VARS = [
  // GitHub Actions
  'GITHUB_ACTOR',
  'GITHUB_TRIGGERING_ACTOR',
  'GITHUB_REPOSITORY',
  'GITHUB_WORKFLOW',
  'GITHUB_RUN_ID',
  'GITHUB_RUN_ATTEMPT',
  'GITHUB_SHA',
  'GITHUB_REF',
  // GitLab CI
  'GITLAB_USER_LOGIN',
  'CI_PROJECT_PATH',
  'CI_PIPELINE_ID',
  'CI_JOB_ID',
  'CI_COMMIT_SHA',
  // Jenkins
  'BUILD_ID',
  'BUILD_NUMBER',
  'JOB_NAME',
  'BUILD_USER_ID',
  // Buildkite, CircleCI
  'BUILDKITE_BUILD_ID',
  'BUILDKITE_BUILD_CREATOR',
  'CIRCLE_BUILD_NUM',
  'CIRCLE_USERNAME',
] as const;

/** A source file and its bytes, before hashing. */
export interface AuditSource {
  path: string;
  bytes: Uint8Array;
  unwrappedBy: readonly string[];
}

/** Everything {@link buildAuditEvent} needs; the caller supplies the clock and the environment. */
export interface AuditInput {
  event: AuditEventKind;
  environment: string;
  files: readonly AuditSource[];
  keys: readonly string[];
  output?: string;
  command?: string;
  env: Readonly<Record<string, string | undefined>>;
  now: Date;
}

/**
 * The git blob id of `bytes`: SHA-1 of `blob <length>\0` followed by the bytes, which is what
 * `git hash-object` prints for a file with no clean filter or eol conversion configured.
 */
export function gitBlobId(bytes: Uint8Array): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

/** Builds the audit event. Pure: no clock, no environment, no file access of its own. */
export function buildAuditEvent(input: AuditInput): AuditEvent {
  const event: AuditEvent = {
    time: input.now.toISOString(),
    event: input.event,
    environment: input.environment,
    files: input.files.map((f) => ({ path: f.path, blob: gitBlobId(f.bytes), unwrappedBy: [...f.unwrappedBy] })),
    keys: [...input.keys],
  };
  if (input.output !== undefined) event.output = input.output;
  if (input.command !== undefined) event.command = input.command;
  const ci: Record<string, string> = {};
  for (const name of CI_IDENTITY_VARS) {
    const v = input.env[name];
    if (v !== undefined && v !== '') ci[name] = v;
  }
  if (Object.keys(ci).length > 0) event.ci = ci;
  const user = nonEmpty(input.env.USER) ?? nonEmpty(input.env.LOGNAME);
  if (user !== undefined) event.user = user;
  return event;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/**
 * Reads the source files' bytes for {@link buildAuditEvent}.
 *
 * The files are read again after decryption, so a file replaced in between would be hashed in
 * its new version; callers run this right after `loadEnvironment`, and the window is the same as
 * between `git status` and a deploy.
 *
 * @param cwd the directory the (relative) paths are relative to.
 * @throws {ReadError} if a file cannot be read.
 */
export async function readAuditSources(
  cwd: string,
  files: readonly { file: string; unwrappedBy: readonly string[] }[],
): Promise<AuditSource[]> {
  return Promise.all(
    files.map(async (f) => {
      try {
        return { path: f.file, bytes: await readFile(resolve(cwd, f.file)), unwrappedBy: f.unwrappedBy };
      } catch (err) {
        throw new ReadError('cannot read file for the audit event', { file: f.file, cause: err });
      }
    }),
  );
}

/** Where {@link writeAuditEvent} writes. */
export interface AuditSink {
  /** Append to this file; absent: write the line to `stderr`. */
  auditLog?: string;
  stderr: { write(chunk: string): unknown };
}

/**
 * Writes `event` as one JSON line: appended to `sink.auditLog` (created 0600; an existing file
 * keeps its mode), or written to `sink.stderr`.
 *
 * The line goes out in a single `write` on an `O_APPEND` descriptor, so concurrent sealant runs
 * appending to one log do not interleave lines on a local filesystem; it is fsynced before this
 * resolves, so an event logged before a secret is exposed survives a crash.
 *
 * @throws {WriteError} if the log file cannot be opened, written or synced (the message names
 *   the file and the OS error code only).
 */
export async function writeAuditEvent(event: AuditEvent, sink: AuditSink): Promise<void> {
  const line = `${JSON.stringify(event)}\n`;
  if (sink.auditLog === undefined) {
    sink.stderr.write(line);
    return;
  }
  let fh;
  try {
    fh = await open(sink.auditLog, fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT, 0o600);
    const bytes = Buffer.from(line, 'utf8');
    const { bytesWritten } = await fh.write(bytes);
    // A short write would leave half a line that the next event glues onto; say so rather than retry.
    if (bytesWritten !== bytes.length) throw Object.assign(new Error('short write'), { code: 'short write' });
    await fh.sync().catch((err: unknown) => {
      // Pipes and character devices (`/dev/null`, a logger's FIFO) cannot be synced, and need not be.
      if (!isErrno(err, 'EINVAL') && !isErrno(err, 'ENOTSUP') && !isErrno(err, 'EOPNOTSUPP')) throw err;
    });
  } catch (err) {
    const code =
      typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
        ? err.code
        : 'unexpected error';
    throw new WriteError(`cannot append to the audit log: ${code}`, {
      file: sink.auditLog,
      cause: err,
      hint: 'check --audit-log (or SEALANT_AUDIT_LOG)',
    });
  } finally {
    await fh?.close();
  }
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === code;
}
