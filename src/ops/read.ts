/**
 * Reading the files a use-case works on, with errors that name the file and never its content.
 */
import { readFile } from 'node:fs/promises';
import { ReadError, SealantError } from '../errors.js';
import { decodeUtf8 } from '../util/utf8.js';

/** Reads a file's bytes. @throws ReadError naming the file. */
export async function readBytes(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ReadError(code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? 'error'})`, { file: path });
  }
}

/**
 * Reads a file as UTF-8 text (an encrypted file always is: the binary store's is JSON).
 * @throws ReadError naming the file; ParseError with the byte offset when it is not valid UTF-8.
 */
export async function readText(path: string): Promise<string> {
  return decodeUtf8(await readBytes(path), path);
}

/** Runs `fn`, attaching `file` to any SealantError that does not name one yet. */
export async function inFile<T>(file: string, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof SealantError) throw e.withFile(file);
    throw e;
  }
}
