/**
 * Output helpers for commands: exact bytes to stdout, files written atomically with the right
 * mode, and JSON that survives the bigints the document model uses for integers.
 */

import { writeFileAtomic } from '../fsx/atomic.js';

/**
 * Writes `data` to stdout exactly as given — no newline added or removed, so a decrypted file
 * piped to another file is byte-identical — and resolves once Node has handed it to the OS.
 *
 * @throws the stream error if stdout is closed (e.g. `EPIPE` when the reader went away).
 */
export function writeStdout(data: string | Uint8Array, stream: NodeJS.WritableStream = process.stdout): Promise<void> {
  return new Promise((resolve, reject) => {
    if (data.length === 0) {
      resolve();
      return;
    }
    stream.write(data, (err) => {
      if (err) reject(err);
      else resolve();
    });
  });
}

/** Options for {@link writeOutputFile}. */
export interface OutputFileOptions {
  /** The data is decrypted/secret: the file is created 0600 whatever the old file's mode was. */
  plaintext: boolean;
  /** Refuse to replace an existing file. */
  exclusive?: boolean;
  /**
   * The path is the command's own input (`--in-place`): a symlink there is followed and the
   * file it points to replaced, as `sops` does. Otherwise (`--output`) a symlink is refused:
   * sealant did not create it, and it could point anywhere.
   */
  inPlace?: boolean;
}

/**
 * Writes a command's output file atomically. Plaintext gets mode 0600; encrypted output keeps
 * the existing file's mode (0644 for a new file), as `sops` does; a replaced file keeps its
 * owner and group.
 *
 * @throws {WriteError} if the file cannot be written, is read-only, is a symlink (unless
 *   `inPlace`), or exists and `exclusive` is set.
 */
export async function writeOutputFile(path: string, data: string | Uint8Array, opts: OutputFileOptions): Promise<void> {
  await writeFileAtomic(path, data, {
    ...(opts.plaintext ? { mode: 0o600 } : {}),
    ...(opts.exclusive === true ? { exclusive: true } : {}),
    ...(opts.inPlace === true ? {} : { noFollow: true }),
  });
}

/**
 * `JSON.stringify` replacer for bigints: a number when it round-trips exactly, else a decimal
 * string (a JSON number beyond 2^53 would be silently rounded by most readers).
 */
export function bigintReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  return value;
}

/** Pretty JSON (2-space indent) with bigints handled by {@link bigintReplacer}. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, bigintReplacer, 2);
}
