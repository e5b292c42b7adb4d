/**
 * Typed errors. Every error the toolkit raises on purpose is a {@link SealantError}: it carries a
 * stable `code`, the process exit code, the file and the location (key path and/or line) where
 * known, and a hint. Messages are fixed text plus names (files, key paths, recipients) and never
 * a plaintext value or a ciphertext, so they are safe to print in CI logs.
 */

/**
 * Exit codes. Where SOPS has a code for the same failure we use SOPS's number
 * (`cmd/sops/codes/codes.go`) so scripts written for `sops` keep working.
 */
export const ExitCode = {
  generic: 1,
  usage: 2, // SOPS: CouldNotReadInputFile=2; we use it for bad input/usage too, as most CLIs do
  couldNotWriteOutput: 3,
  configError: 5,
  invalidSetFormat: 7,
  conflictingParameters: 8,
  errorDecryptingTree: 25,
  macMismatch: 51,
  macNotFound: 52,
  weakenedMetadata: 53, // not in SOPS: next to the MAC codes, as an edited `sops` block is tampering the MAC cannot see
  configNotFound: 61,
  invalidTreePath: 91,
  noEncryptionKey: 111,
  couldNotRetrieveKey: 128,
  fileNotModified: 200,
  noEditor: 201,
  fileAlreadyEncrypted: 203,
  needAtLeastOneDocument: 204,
} as const;

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
  readonly code: string;
  /** Process exit code for this error. */
  readonly exitCode: number;
  readonly file?: string;
  readonly path?: readonly (string | number)[];
  readonly line?: number;
  readonly col?: number;
  readonly hint?: string;

  constructor(code: string, exitCode: number, message: string, options: SealantErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.file = options.file;
    this.path = options.path;
    this.line = options.line;
    this.col = options.col;
    this.hint = options.hint;
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
    super('USAGE', ExitCode.usage, message, options);
  }
}

/** Two options that cannot go together, where sops exits with ErrorConflictingParameters (8): `--in-place` with standard input. */
export class ConflictingParametersError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('CONFLICTING_PARAMETERS', ExitCode.conflictingParameters, message, options);
  }
}

/** The input is not well-formed YAML/JSON/dotenv/INI. */
export class ParseError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('PARSE', ExitCode.usage, message, options);
  }
}

/** The input is syntactically fine but not a document SOPS can hold (top level not a map, non-string key, too many alias expansions…). */
export class UnsupportedDocumentError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('UNSUPPORTED_DOCUMENT', ExitCode.usage, message, options);
  }
}

/** The file has no (or broken) `sops` metadata. */
export class NotSopsFileError extends SealantError {
  constructor(message = 'not a SOPS-encrypted file: no "sops" metadata found', options: SealantErrorOptions = {}) {
    super('NOT_ENCRYPTED', ExitCode.usage, message, {
      hint: 'encrypt it first with `sealant encrypt --in-place FILE`',
      ...options,
    });
  }
}

/** `encrypt` was asked to encrypt a file that already carries SOPS metadata. */
export class AlreadyEncryptedError extends SealantError {
  constructor(options: SealantErrorOptions = {}) {
    super(
      'ALREADY_ENCRYPTED',
      ExitCode.fileAlreadyEncrypted,
      'file is already encrypted (it has a "sops" metadata block)',
      {
        hint: 'use `sealant set`/`sealant edit` to change values, or `sealant rotate` for a new data key',
        ...options,
      },
    );
  }
}

/** `encrypt` was given a file with no document at all (SOPS: NeedAtLeastOneDocument). */
export class EmptyFileError extends SealantError {
  constructor(options: SealantErrorOptions = {}) {
    super(
      'EMPTY_FILE',
      ExitCode.needAtLeastOneDocument,
      'file cannot be completely empty, it must contain at least one document',
      {
        hint: 'an encrypted file needs content: add at least one key (an empty map `{}` will do)',
        ...options,
      },
    );
  }
}

/** The `sops` metadata block is present but malformed. */
export class MetadataError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('BAD_METADATA', ExitCode.usage, message, options);
  }
}

/**
 * The file's `sops` block protects less than the config that owns the file asks for (a weaker
 * encryption rule, `mac_only_encrypted`, a recipient the config does not name): nothing was
 * written. The message names the field, never a value.
 */
export class WeakenedMetadataError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('WEAKENED_METADATA', ExitCode.weakenedMetadata, message, options);
  }
}

/** An `ENC[...]` value could not be parsed or has an unknown type. */
export class EncValueError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('BAD_ENC_VALUE', ExitCode.errorDecryptingTree, message, options);
  }
}

/** AES-GCM authentication of one value (or of the MAC) failed: wrong key, or the file was tampered with. */
export class DecryptionError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('DECRYPT_FAILED', ExitCode.macMismatch, message, {
      hint: 'the value was modified, moved to another key, or encrypted with a different data key',
      ...options,
    });
  }
}

/** The recomputed MAC differs from the stored one. */
export class MacMismatchError extends SealantError {
  constructor(options: SealantErrorOptions = {}) {
    super(
      'MAC_MISMATCH',
      ExitCode.macMismatch,
      'MAC mismatch: the file was modified outside sealant/sops or is corrupted',
      {
        hint: 'inspect `git log -p` for the file; `--ignore-mac` decrypts anyway (unsafe)',
        ...options,
      },
    );
  }
}

/**
 * Under `--strict`, `render`/`exec` would output values the MAC does not cover (`""`, null):
 * anyone could have added them without a key. Nothing was output. The message names key paths.
 */
export class MacUncoveredError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('MAC_UNCOVERED', ExitCode.generic, message, options);
  }
}

/** The file has no `mac` field. */
export class MacNotFoundError extends SealantError {
  constructor(options: SealantErrorOptions = {}) {
    super('MAC_NOT_FOUND', ExitCode.macNotFound, 'no MAC found in the "sops" metadata', options);
  }
}

/** No available identity could unwrap the data key. */
export class NoKeyError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('NO_KEY', ExitCode.couldNotRetrieveKey, message, {
      hint: 'set SOPS_AGE_KEY_FILE or SOPS_AGE_KEY, or pass --identity FILE with a key for one of the recipients',
      ...options,
    });
  }
}

/** No recipient to encrypt to. */
export class NoRecipientsError extends SealantError {
  constructor(options: SealantErrorOptions = {}) {
    super('NO_RECIPIENTS', ExitCode.noEncryptionKey, 'no recipients to encrypt to', {
      hint: 'pass --age age1… (or configure .sops.yaml / .sealant.yaml)',
      ...options,
    });
  }
}

/** A recipient or identity string is malformed. */
export class KeyFormatError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('BAD_KEY', ExitCode.usage, message, options);
  }
}

/** A `--extract`/`set` path is malformed or does not exist. */
export class TreePathError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('BAD_PATH', ExitCode.invalidTreePath, message, options);
  }
}

/** Writing an output file failed. */
export class WriteError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('WRITE_FAILED', ExitCode.couldNotWriteOutput, message, options);
  }
}

/** Reading an input file failed. */
export class ReadError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('READ_FAILED', ExitCode.usage, message, options);
  }
}

/**
 * A write would leave a file whose decrypted values do not satisfy its environment's JSON
 * Schema; nothing was written. The message names key paths and schema rules, never values.
 */
export class SchemaViolationError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('SCHEMA_VIOLATION', ExitCode.generic, message, options);
  }
}

/** A configuration file (.sops.yaml/.sealant.yaml) is invalid. */
export class ConfigError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('CONFIG', ExitCode.configError, message, options);
  }
}

/**
 * The `gpg` binary could not wrap or unwrap a data key: not installed, no secret key, agent or
 * smartcard failure. The message names the fingerprint and gpg's reason, never key material.
 */
export class PgpError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('PGP', ExitCode.couldNotRetrieveKey, message, options);
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
 * A call to AWS KMS failed (after the SDK's retries). A failed `Decrypt` exits 128 like SOPS's
 * CouldNotRetrieveKey; a failed `Encrypt` is a generic failure (SOPS: "could not generate data key").
 */
export class KmsError extends SealantError {
  readonly operation: string;
  readonly arn: string;
  readonly awsCode: string;

  constructor(failure: KmsFailure, options: SealantErrorOptions = {}) {
    super(
      'KMS',
      failure.operation === 'Decrypt' ? ExitCode.couldNotRetrieveKey : ExitCode.generic,
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
    super('GIT', ExitCode.generic, message, options);
  }
}
