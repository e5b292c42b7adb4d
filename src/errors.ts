/**
 * Typed errors. Every error the toolkit raises on purpose is a {@link SealantError}: it carries a
 * stable `code`, the process exit code, the file and the location (key path and/or line) where
 * known, and a hint. Messages are fixed text plus names (files, key paths, recipients) and never
 * a plaintext value or a ciphertext, so they are safe to print in CI logs.
 */
import { constants as osConstants } from 'node:os';

/**
 * Exit statuses by name. Where SOPS has a status for the same failure we use its number and its
 * name (`cmd/sops/codes/codes.go`), so scripts written for `sops` keep working; `sops: false`
 * marks ours.
 */
const EXIT_STATUS = {
  ErrorGeneric: { status: 1, sops: true },
  CouldNotReadInputFile: { status: 2, sops: true }, // also bad input and usage, as most CLIs do
  CouldNotWriteOutputFile: { status: 3, sops: true },
  ErrorReadingConfig: { status: 5, sops: true },
  ErrorInvalidSetFormat: { status: 7, sops: true },
  ErrorConflictingParameters: { status: 8, sops: true },
  ErrorDecryptingTree: { status: 25, sops: true },
  MacMismatch: { status: 51, sops: true },
  MacNotFound: { status: 52, sops: true },
  // Next to the MAC codes: an edited `sops` block is tampering the MAC cannot see.
  WeakenedMetadata: { status: 53, sops: false },
  ConfigFileNotFound: { status: 61, sops: true },
  InvalidTreePathFormat: { status: 91, sops: true },
  NoEncryptionKeyFound: { status: 111, sops: true },
  // A shell's statuses for a command it cannot run (`exec`).
  CommandNotExecutable: { status: 126, sops: false },
  CommandNotFound: { status: 127, sops: false },
  CouldNotRetrieveKey: { status: 128, sops: true },
  FileHasNotBeenModified: { status: 200, sops: true },
  NoEditorFound: { status: 201, sops: true },
  FileAlreadyEncrypted: { status: 203, sops: true },
  NeedAtLeastOneDocument: { status: 204, sops: true },
} as const satisfies Record<string, { status: number; sops: boolean }>;

/** The name of an exit status ({@link EXIT_STATUS}). */
export type ExitName = keyof typeof EXIT_STATUS;

/** What one error code means: its exit status and a one-line summary (Markdown, for docs/commands.md). */
export interface ErrorSpec {
  exit: ExitName;
  summary: string;
}

/**
 * Every code sealant reports, in one table: the `code` of the `--json` error envelope (or, for
 * the few that are results rather than errors, the named reason a command exits non-zero), its
 * exit status, and what it means. docs/commands.md's exit-code table is generated from it
 * (`npm run docs:errors`).
 */
export const ERRORS = {
  INTERNAL: { exit: 'ErrorGeneric', summary: 'an unexpected failure (a bug): `internal error: …`' },
  MIXED_FAILURES: {
    exit: 'ErrorGeneric',
    summary: 'a bulk command (`rotate`, `updatekeys`) had failures with different exit codes',
  },
  MAC_UNCOVERED: {
    exit: 'ErrorGeneric',
    summary: '`--strict` `render`/`exec` would output values the MAC does not cover (`""`, null); nothing was output',
  },
  SCHEMA_VIOLATION: {
    exit: 'ErrorGeneric',
    summary: "a write would leave values that break the environment's JSON Schema; nothing written",
  },
  MERGE_CONFLICT: {
    exit: 'ErrorGeneric',
    summary: '`--strict`: files of one environment set a key to different values',
  },
  GIT: { exit: 'ErrorGeneric', summary: 'git could not answer (not a repository, unknown revision, git missing…)' },
  KMS_ENCRYPT: { exit: 'ErrorGeneric', summary: 'AWS KMS refused, or could not be reached, to wrap a data key' },
  PLAN_MISMATCH: {
    exit: 'ErrorGeneric',
    summary: '`apply` would change a file differently than the plan showed; nothing written',
  },
  EDITOR_FAILED: { exit: 'ErrorGeneric', summary: '`edit`: the editor exited non-zero; the file was not changed' },
  EXEC_FIFO: { exit: 'ErrorGeneric', summary: '`exec --fifo`: the FIFO could not be created' },
  VALIDATION_FAILED: { exit: 'ErrorGeneric', summary: '`validate` found errors (warnings and notes do not count)' },
  GUARD_FAILED: { exit: 'ErrorGeneric', summary: '`guard` found errors in the staged files' },
  DIFF_ALERTS: {
    exit: 'ErrorGeneric',
    summary: '`diff` found alerts (plaintext committed, values in clear, MAC mismatch)',
  },
  KRM_FAILED: { exit: 'ErrorGeneric', summary: '`krm`: a generator failed (reported as a `severity: error` result)' },
  MERGE_UNRESOLVED: {
    exit: 'ErrorGeneric',
    summary: '`git merge-driver`: both sides changed a key, or the merge needs the data key; left to git as a conflict',
  },
  ACCESS_DRIFT: {
    exit: 'ErrorGeneric',
    summary: "`access` found drift: files whose recipients differ from their environment's",
  },
  USAGE: { exit: 'CouldNotReadInputFile', summary: 'bad flags or arguments' },
  PARSE: {
    exit: 'CouldNotReadInputFile',
    summary: 'the input is not well-formed YAML/JSON/dotenv/INI (the message names file:line)',
  },
  UNSUPPORTED_DOCUMENT: {
    exit: 'CouldNotReadInputFile',
    summary: 'a document SOPS cannot hold (top level not a map, a non-string key, too many alias expansions…)',
  },
  NOT_ENCRYPTED: { exit: 'CouldNotReadInputFile', summary: 'not a SOPS file: no `sops` metadata' },
  BAD_METADATA: { exit: 'CouldNotReadInputFile', summary: 'the `sops` metadata block is malformed' },
  BAD_KEY: { exit: 'CouldNotReadInputFile', summary: 'a recipient or identity is malformed' },
  READ_FAILED: {
    exit: 'CouldNotReadInputFile',
    summary: 'an input file cannot be read (not found, not readable, not UTF-8 text)',
  },
  SCHEMA_CONFIG: { exit: 'CouldNotReadInputFile', summary: 'a JSON Schema does not compile (named)' },
  STALE_PLAN: { exit: 'CouldNotReadInputFile', summary: '`apply`: a file changed since the plan was made; plan again' },
  KRM_INPUT: { exit: 'CouldNotReadInputFile', summary: '`krm`: the input is not a ResourceList' },
  RENDER_UNREPRESENTABLE: {
    exit: 'CouldNotReadInputFile',
    summary: 'a value cannot be written in the requested output format so that its readers get it back exactly',
  },
  VALIDATE_CONFIG: {
    exit: 'CouldNotReadInputFile',
    summary: '`validate`: the config cannot be used (invalid, not found, unknown environment); no file was judged',
  },
  WRITE_FAILED: { exit: 'CouldNotWriteOutputFile', summary: 'the output could not be written' },
  UNSAFE_OUTPUT: {
    exit: 'CouldNotWriteOutputFile',
    summary: 'decrypted output would go to a path git tracks or does not ignore; nothing written',
  },
  CONFIG: { exit: 'ErrorReadingConfig', summary: 'invalid config (`.sealant.yaml` / `.sops.yaml`, with file:line)' },
  GENERATOR: { exit: 'ErrorReadingConfig', summary: 'a bad `SecretGenerator` field' },
  RENDER_NAME_COLLISION: {
    exit: 'ErrorReadingConfig',
    summary: '`render`: two key paths give one variable name or one Secret key',
  },
  RENDER_INVALID_NAME: {
    exit: 'ErrorReadingConfig',
    summary: '`render`: a variable name, Secret key, object name, label or annotation is not valid for its target',
  },
  RENDER_NO_MATCH: { exit: 'ErrorReadingConfig', summary: '`render`: a `keys` pattern of a Secret selects no value' },
  RENDER_INVALID_SECRET: {
    exit: 'ErrorReadingConfig',
    summary: '`render`: a typed Secret (tls, dockerconfigjson…) lacks what Kubernetes requires of that type',
  },
  INVALID_SET_VALUE: {
    exit: 'ErrorInvalidSetFormat',
    summary: "a `set` value is not JSON; an `apply` value is not of its key's type",
  },
  CONFLICTING_PARAMETERS: {
    exit: 'ErrorConflictingParameters',
    summary: 'conflicting options: `--in-place` with standard input',
  },
  BAD_ENC_VALUE: {
    exit: 'ErrorDecryptingTree',
    summary:
      'an `ENC[...]` value is malformed (unknown `type:`, bad base64), or decrypts to bytes that are not UTF-8 in a text file',
  },
  MAC_MISMATCH: { exit: 'MacMismatch', summary: 'MAC mismatch: the file was modified outside sealant/sops' },
  DECRYPT_FAILED: {
    exit: 'MacMismatch',
    summary: 'a value failed authentication (tampered, moved, or another data key)',
  },
  MAC_NOT_FOUND: { exit: 'MacNotFound', summary: 'no MAC in the file' },
  WEAKENED_METADATA: {
    exit: 'WeakenedMetadata',
    summary:
      'the `sops` block of a file the config owns is weaker than its environment (another encryption rule, `mac_only_encrypted`, a recipient the config does not name): nothing written ([config.md](config.md#the-config-decides-how-an-owned-file-is-protected))',
  },
  CONFIG_NOT_FOUND: { exit: 'ConfigFileNotFound', summary: '`--config` file not found' },
  BAD_PATH: { exit: 'InvalidTreePathFormat', summary: 'a key path does not exist or is malformed' },
  NO_RECIPIENTS: { exit: 'NoEncryptionKeyFound', summary: 'no recipient to encrypt to' },
  EXEC_NOT_EXECUTABLE: { exit: 'CommandNotExecutable', summary: '`exec`: the command cannot be run (not executable)' },
  EXEC: { exit: 'CommandNotFound', summary: '`exec`: command not found' },
  NO_KEY: {
    exit: 'CouldNotRetrieveKey',
    summary: "no available key could decrypt the data key (lists the file's recipients and the identities tried)",
  },
  PGP: { exit: 'CouldNotRetrieveKey', summary: '`gpg` could not wrap or unwrap a data key' },
  KMS: { exit: 'CouldNotRetrieveKey', summary: 'AWS KMS refused, or could not be reached, to unwrap a data key' },
  NOT_MODIFIED: { exit: 'FileHasNotBeenModified', summary: '`edit`: saved without changes' },
  NO_EDITOR: {
    exit: 'NoEditorFound',
    summary: '`edit`: no editor — `SOPS_EDITOR` and `EDITOR` unset and none of vim, nano, vi on `PATH`',
  },
  ALREADY_ENCRYPTED: { exit: 'FileAlreadyEncrypted', summary: '`encrypt`: the file is already encrypted' },
  EMPTY_FILE: {
    exit: 'NeedAtLeastOneDocument',
    summary: '`encrypt`: the file is empty (a YAML file with no document); nothing is written',
  },
} as const satisfies Record<string, ErrorSpec>;

/** Every code sealant reports: closed, one per row of {@link ERRORS}. */
export type ErrorCode = keyof typeof ERRORS;

/** The process exit status of a successful run. */
export const EXIT_SUCCESS = 0;

/** The exit status of `code`. */
export function exitCodeOf(code: ErrorCode): number {
  return EXIT_STATUS[ERRORS[code].exit].status;
}

/** SOPS's name for the exit status of `code`, or undefined when the status is not one of SOPS's. */
export function sopsExitName(code: ErrorCode): ExitName | undefined {
  const name = ERRORS[code].exit;
  return EXIT_STATUS[name].sops ? name : undefined;
}

/**
 * The status a shell reports for a process killed by `signal`: 128 + the signal's number
 * (`SIGINT` → 130, `SIGPIPE` → 141, `SIGTERM` → 143).
 */
export function signalExitStatus(signal: NodeJS.Signals): number {
  const n = osConstants.signals[signal] as number | undefined;
  return n === undefined ? EXIT_STATUS.ErrorGeneric.status : 128 + n;
}

/** Where in a file an error points. */
export interface ErrorLocation {
  /** The file the error is about, as the user named it. */
  file?: string;
  /** Key path inside the document, e.g. `["db"]["password"]` rendered as `db.password`. */
  path?: readonly (string | number)[];
  /** 1-based line in the file's source. */
  line?: number;
  /** 1-based column in the file's source. */
  col?: number;
}

export interface SealantErrorOptions extends ErrorLocation {
  hint?: string;
  cause?: unknown;
}

/** Renders a key path the way users write it (`a.b[0].c`). Keys are names, never values. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

/** Base class of every deliberate error. */
export class SealantError extends Error {
  /** Stable machine-readable code (part of the `--json` API). */
  readonly code: ErrorCode;
  readonly file?: string;
  readonly path?: readonly (string | number)[];
  readonly line?: number;
  readonly col?: number;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, options: SealantErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.file = options.file;
    this.path = options.path;
    this.line = options.line;
    this.col = options.col;
    this.hint = options.hint;
  }

  /** Process exit status for this error, from {@link ERRORS}. */
  get exitCode(): number {
    return exitCodeOf(this.code);
  }

  /** One line for humans: `file:line: path: message`. */
  toOneLine(): string {
    let where = '';
    if (this.file !== undefined) {
      where = this.file;
      if (this.line !== undefined) where += `:${this.line}`;
      if (this.col !== undefined && this.line !== undefined) where += `:${this.col}`;
      where += ': ';
    }
    const path = this.path !== undefined && this.path.length > 0 ? `${formatPath(this.path)}: ` : '';
    return `${where}${path}${this.message}`;
  }

  /** A copy of this error with file information filled in (errors raised below `ops/` rarely know the file name). */
  withFile(file: string): this {
    if (this.file !== undefined) return this;
    const copy = Object.create(Object.getPrototypeOf(this) as object) as this;
    Object.assign(copy, this, { file });
    copy.message = this.message;
    copy.stack = this.stack;
    return copy;
  }
}

/** Command-line misuse: bad flag combination, bad argument. */
export class UsageError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('USAGE', message, options);
  }
}

/** Two options that cannot go together, where sops exits with ErrorConflictingParameters (8): `--in-place` with standard input. */
export class ConflictingParametersError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('CONFLICTING_PARAMETERS', message, options);
  }
}

/** The input is not well-formed YAML/JSON/dotenv/INI. */
export class ParseError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('PARSE', message, options);
  }
}

/** The input is syntactically fine but not a document SOPS can hold (top level not a map, non-string key, too many alias expansions…). */
export class UnsupportedDocumentError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('UNSUPPORTED_DOCUMENT', message, options);
  }
}

/** The file has no (or broken) `sops` metadata. */
export class NotSopsFileError extends SealantError {
  constructor(message = 'not a SOPS-encrypted file: no "sops" metadata found', options: SealantErrorOptions = {}) {
    super('NOT_ENCRYPTED', message, {
      hint: 'encrypt it first with `sealant encrypt --in-place FILE`',
      ...options,
    });
  }
}

/** `encrypt` was asked to encrypt a file that already carries SOPS metadata. */
export class AlreadyEncryptedError extends SealantError {
  constructor(options: SealantErrorOptions = {}) {
    super('ALREADY_ENCRYPTED', 'file is already encrypted (it has a "sops" metadata block)', {
      hint: 'use `sealant set`/`sealant edit` to change values, or `sealant rotate` for a new data key',
      ...options,
    });
  }
}

/** `encrypt` was given a file with no document at all (SOPS: NeedAtLeastOneDocument). */
export class EmptyFileError extends SealantError {
  constructor(options: SealantErrorOptions = {}) {
    super('EMPTY_FILE', 'file cannot be completely empty, it must contain at least one document', {
      hint: 'an encrypted file needs content: add at least one key (an empty map `{}` will do)',
      ...options,
    });
  }
}

/** The `sops` metadata block is present but malformed. */
export class MetadataError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('BAD_METADATA', message, options);
  }
}

/**
 * The file's `sops` block protects less than the config that owns the file asks for (a weaker
 * encryption rule, `mac_only_encrypted`, a recipient the config does not name): nothing was
 * written. The message names the field, never a value.
 */
export class WeakenedMetadataError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('WEAKENED_METADATA', message, options);
  }
}

/** An `ENC[...]` value could not be parsed or has an unknown type. */
export class EncValueError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('BAD_ENC_VALUE', message, options);
  }
}

/** AES-GCM authentication of one value (or of the MAC) failed: wrong key, or the file was tampered with. */
export class DecryptionError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('DECRYPT_FAILED', message, {
      hint: 'the value was modified, moved to another key, or encrypted with a different data key',
      ...options,
    });
  }
}

/** The recomputed MAC differs from the stored one. */
export class MacMismatchError extends SealantError {
  constructor(options: SealantErrorOptions = {}) {
    super('MAC_MISMATCH', 'MAC mismatch: the file was modified outside sealant/sops or is corrupted', {
      hint: 'inspect `git log -p` for the file; `--ignore-mac` decrypts anyway (unsafe)',
      ...options,
    });
  }
}

/**
 * Under `--strict`, `render`/`exec` would output values the MAC does not cover (`""`, null):
 * anyone could have added them without a key. Nothing was output. The message names key paths.
 */
export class MacUncoveredError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('MAC_UNCOVERED', message, options);
  }
}

/** The file has no `mac` field. */
export class MacNotFoundError extends SealantError {
  constructor(options: SealantErrorOptions = {}) {
    super('MAC_NOT_FOUND', 'no MAC found in the "sops" metadata', options);
  }
}

/** No available identity could unwrap the data key. */
export class NoKeyError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('NO_KEY', message, {
      hint: 'set SOPS_AGE_KEY_FILE or SOPS_AGE_KEY, or pass --identity FILE with a key for one of the recipients',
      ...options,
    });
  }
}

/** No recipient to encrypt to. */
export class NoRecipientsError extends SealantError {
  constructor(options: SealantErrorOptions = {}) {
    super('NO_RECIPIENTS', 'no recipients to encrypt to', {
      hint: 'pass --age age1… (or configure .sops.yaml / .sealant.yaml)',
      ...options,
    });
  }
}

/** A recipient or identity string is malformed. */
export class KeyFormatError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('BAD_KEY', message, options);
  }
}

/** A `--extract`/`set` path is malformed or does not exist. */
export class TreePathError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('BAD_PATH', message, options);
  }
}

/** Writing an output file failed. */
export class WriteError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('WRITE_FAILED', message, options);
  }
}

/** Reading an input file failed. */
export class ReadError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('READ_FAILED', message, options);
  }
}

/**
 * A write would leave a file whose decrypted values do not satisfy its environment's JSON
 * Schema; nothing was written. The message names key paths and schema rules, never values.
 */
export class SchemaViolationError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('SCHEMA_VIOLATION', message, options);
  }
}

/** A configuration file (.sops.yaml/.sealant.yaml) is invalid. */
export class ConfigError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('CONFIG', message, options);
  }
}

/**
 * The `gpg` binary could not wrap or unwrap a data key: not installed, no secret key, agent or
 * smartcard failure. The message names the fingerprint and gpg's reason, never key material.
 */
export class PgpError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('PGP', message, options);
  }
}

/** What a {@link KmsError} is about: the call, the key, and the provider's answer (names only, never data). */
export interface KmsFailure {
  /** The KMS (or STS) operation that failed, e.g. `Decrypt`, `Encrypt`. */
  operation: string;
  /** The KMS key ARN the call was for. */
  arn: string;
  /** The AWS error code (`ThrottlingException`, `AccessDeniedException`…) or the network error code (`ECONNREFUSED`). */
  awsCode: string;
  /** A short one-line description from the SDK (no request or response data). */
  detail: string;
}

/**
 * A call to AWS KMS failed (after the SDK's retries). A failed `Decrypt` is `KMS` (exit 128 like
 * SOPS's CouldNotRetrieveKey); a failed `Encrypt` is `KMS_ENCRYPT`, a generic failure (SOPS:
 * "could not generate data key").
 */
export class KmsError extends SealantError {
  readonly operation: string;
  readonly arn: string;
  readonly awsCode: string;

  constructor(failure: KmsFailure, options: SealantErrorOptions = {}) {
    super(
      failure.operation === 'Decrypt' ? 'KMS' : 'KMS_ENCRYPT',
      `AWS KMS ${failure.operation} failed for ${failure.arn}: ${failure.awsCode} (${failure.detail})`,
      options,
    );
    this.operation = failure.operation;
    this.arn = failure.arn;
    this.awsCode = failure.awsCode;
  }
}

/** git could not answer (not a repository, unknown revision, git missing…). */
export class GitError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('GIT', message, options);
  }
}
