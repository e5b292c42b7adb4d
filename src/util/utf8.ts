/**
 * Strict UTF-8. `Buffer.toString('utf8')` and a default `TextDecoder` silently turn every
 * invalid byte into U+FFFD, so a file that went through them is changed without a word. Text
 * stores refuse such input instead, as go-yaml and Go's `encoding/json` (sops's parsers) do.
 */
import { isUtf8 } from 'node:buffer';
import { ParseError } from '../errors.js';

// ignoreBOM: a leading byte-order mark is content to keep (the stores decide what it means).
const LENIENT = new TextDecoder('utf-8', { ignoreBOM: true });

/** `bytes` as text, or `undefined` when they are not valid UTF-8. A leading BOM stays (U+FEFF). */
export function utf8Text(bytes: Uint8Array): string | undefined {
  if (!isUtf8(bytes)) return undefined;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/**
 * The offset of the first byte at which `bytes` stop being valid UTF-8, or -1 when they are.
 * Before the first invalid byte the lenient decoder's output is exactly the input, so walking
 * its code points (and their UTF-8 lengths) finds the offset; a U+FFFD that is really in the
 * input (EF BF BD) is skipped.
 */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  if (isUtf8(bytes)) return -1;
  let offset = 0;
  for (const ch of LENIENT.decode(bytes)) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0xfffd && !(bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd))
      return offset;
    offset += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return offset;
}

/**
 * `bytes` as text.
 * @param file - named in the error.
 * @throws ParseError naming the file, the line and the byte offset of the first invalid byte
 * (never the byte itself: it may belong to a secret).
 */
export function decodeUtf8(bytes: Uint8Array, file?: string): string {
  const text = utf8Text(bytes);
  if (text !== undefined) return text;
  const offset = invalidUtf8Offset(bytes);
  let line = 1;
  for (let i = 0; i < offset; i += 1) if (bytes[i] === 0x0a) line += 1;
  throw new ParseError(`not valid UTF-8 text: invalid byte at offset ${offset}`, {
    ...(file === undefined ? {} : { file }),
    line,
    hint: 'YAML, JSON, dotenv and INI files must be UTF-8 (as for sops); encrypt other content as binary (--input-type binary)',
  });
}
