/**
 * Standard input, read the one way sealant reads it: whole, as bytes, at most once per process.
 *
 * A command reads stdin only where the user asked for it (`-` as an input file, no FILE for
 * `encrypt`/`decrypt`, `set --value-stdin`, `apply --value PATH=-`, `krm`). Nothing else may
 * touch it: oclif, left alone, reads piped stdin into any missing positional argument, which
 * turned `printf 'password: x' | sealant encrypt` into an error message quoting the password.
 */
import { buffer } from 'node:stream/consumers';

import { UsageError } from '../errors.js';
import { invalidUtf8Offset, utf8Text } from '../util/utf8.js';

/** The path that means standard input for an input file and standard output for an output path. */
export const STDIO_PATH = '-';

/** How an input read from stdin is named in messages and `--json` results. */
export const STDIN_NAME = '<stdin>';

/** What {@link readStdin} reads: `process.stdin`, or any byte stream (tests). */
export interface StdinStream extends AsyncIterable<unknown> {
  /** True for a terminal: nothing was piped in, and reading would wait for someone to type. */
  isTTY?: boolean;
}

/** Options of {@link readStdin}. */
export interface ReadStdinOptions {
  /** Default: `process.stdin`. */
  stream?: StdinStream;
  /** The error for a terminal (default: a {@link UsageError} naming `purpose`). */
  onTerminal?: () => Error;
}

interface Claim {
  purpose: string;
  bytes: Promise<Buffer>;
}

// Keyed by stream, so that a test's stream never meets the process's claim.
const claims = new WeakMap<object, Claim>();

/**
 * Reads all of standard input as bytes, exactly as they came (no decoding, no trimming).
 * `purpose` says what the bytes are ("the input file", "the value of --value-stdin"): the same
 * purpose gets the same bytes again, another purpose is refused, since one stream cannot be two
 * inputs. A closed stdin reads as empty (Node opens /dev/null for a closed descriptor 0).
 *
 * @throws UsageError when stdin is a terminal (waiting would hang a script) or was already read
 *   for another purpose.
 */
export function readStdin(purpose: string, opts: ReadStdinOptions = {}): Promise<Buffer> {
  const stream = opts.stream ?? process.stdin;
  const claim = claims.get(stream);
  if (claim !== undefined) {
    if (claim.purpose === purpose) return claim.bytes;
    return Promise.reject(
      new UsageError(`standard input is already ${claim.purpose}; it cannot also be ${purpose}`, {
        hint: 'give one of them as a file',
      }),
    );
  }
  if (stream.isTTY === true) {
    return Promise.reject(
      opts.onTerminal?.() ??
        new UsageError(`expected ${purpose} on standard input, but it is a terminal`, {
          hint: 'pipe it in (… | sealant …), or name a file',
        }),
    );
  }
  const bytes = buffer(stream);
  claims.set(stream, { purpose, bytes });
  return bytes;
}

/**
 * {@link readStdin} for text: the bytes must be valid UTF-8, and are never changed (no U+FFFD
 * replacement, no trimming; a byte order mark is kept).
 *
 * @throws UsageError as {@link readStdin} does, or when the bytes are not valid UTF-8 (the
 *   message names `purpose` and the byte offset, never the content).
 */
export async function readStdinText(purpose: string, opts: ReadStdinOptions = {}): Promise<string> {
  const bytes = await readStdin(purpose, opts);
  const text = utf8Text(bytes);
  if (text !== undefined) return text;
  throw new UsageError(`${purpose} on standard input is not valid UTF-8 text (at byte ${invalidUtf8Offset(bytes)})`, {
    hint: 'SOPS values and YAML/JSON/dotenv/INI files are UTF-8 text',
  });
}
