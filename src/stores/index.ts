/**
 * The store registry: one store per file syntax, and SOPS's rules for choosing one
 * (`cmd/sops/formats/formats.go`).
 */
import { isUtf8 } from 'node:buffer';
import { SealantError, UsageError } from '../errors.js';
import { parseMetadata, type SopsMetadata } from '../format/metadata.js';
import { decodeUtf8 } from '../util/utf8.js';
import { binaryStore } from './binary.js';
import { dotenvStore } from './dotenv.js';
import { iniStore } from './ini.js';
import { jsonStore } from './json.js';
import { FILE_FORMATS } from './store.js';
import type { FileFormat, Store, StoreDocument } from './store.js';
import { yamlStore } from './yaml.js';

const STORES: Record<FileFormat, Store> = {
  yaml: yamlStore,
  json: jsonStore,
  dotenv: dotenvStore,
  ini: iniStore,
  binary: binaryStore,
};

/** The store for `format`. */
export function storeFor(format: FileFormat): Store {
  return STORES[format];
}

/**
 * Loads content with the store for `format`. Bytes stay bytes for the binary store; every other
 * store needs valid UTF-8, and bytes that are not are refused, never decoded with U+FFFD in
 * place of the bad bytes (two different files must not read alike).
 * @param file - named in errors.
 * @throws ParseError (with the byte offset) for bytes that are not UTF-8, and as the store does.
 */
export function loadContent(input: string | Uint8Array, format: FileFormat, file?: string): StoreDocument {
  if (format === 'binary') return binaryStore.load(input, file);
  return storeFor(format).load(typeof input === 'string' ? input : decodeUtf8(input, file), file);
}

/**
 * What a file's content says about its `sops` block, read keyless (the read-only views: guard,
 * diff, the authority check of a write): `sops` with the typed metadata, `malformed` for a block
 * `parseMetadata` refuses, `not-utf8` for text-format bytes that are not UTF-8 but mention `sops`
 * (never read with U+FFFD for the bad bytes: that would be another file), and undefined for
 * content without a block or that does not load as `format`.
 */
export type SopsBlock =
  { kind: 'sops'; meta: SopsMetadata } | { kind: 'malformed' } | { kind: 'not-utf8'; message: string } | undefined;

/** The `sops` block of `content` in `format` (see {@link SopsBlock}). Pure; never throws. */
export function sopsBlockOf(content: string | Uint8Array, format: FileFormat): SopsBlock {
  const bytes =
    typeof content === 'string' ? undefined : Buffer.from(content.buffer, content.byteOffset, content.length);
  if (!(typeof content === 'string' ? content.includes('sops') : bytes!.includes('sops'))) return undefined; // most files: no parse needed
  let metadata;
  try {
    metadata = loadContent(content, format).metadata;
  } catch (e) {
    // Content that does not load says nothing about a block; only the UTF-8 refusal is said.
    if (format === 'binary' || bytes === undefined || isUtf8(bytes) || !(e instanceof SealantError)) return undefined;
    return { kind: 'not-utf8', message: e.message };
  }
  if (metadata === undefined) return undefined;
  try {
    return { kind: 'sops', meta: parseMetadata(metadata) };
  } catch {
    return { kind: 'malformed' };
  }
}

/**
 * The format SOPS would pick for `path` from its name: `.yaml`/`.yml` → yaml, `.json` → json,
 * `.env` → dotenv, `.ini` → ini, anything else → binary. Like SOPS the match is a
 * case-sensitive suffix test, so `secrets.YAML` is binary and a file named `.env` is dotenv.
 */
export function formatFromPath(path: string): FileFormat {
  if (path.endsWith('.yaml') || path.endsWith('.yml')) return 'yaml';
  if (path.endsWith('.json')) return 'json';
  if (path.endsWith('.env')) return 'dotenv';
  if (path.endsWith('.ini')) return 'ini';
  return 'binary';
}

/**
 * Validates an `--input-type`/`--output-type` value. (SOPS silently treats an unknown name as
 * binary; we refuse it, since a typo would otherwise encrypt a YAML file as one opaque blob.)
 * @throws UsageError when `value` is not one of yaml, json, dotenv, ini, binary.
 */
export function parseFormat(value: string): FileFormat {
  const format = FILE_FORMATS.find((f) => f === value);
  if (format === undefined)
    throw new UsageError('unknown file format', { hint: `use one of: ${FILE_FORMATS.join(', ')}` });
  return format;
}

export { binaryStore, dotenvStore, iniStore, jsonStore, yamlStore };
export type { FileFormat, Store, StoreDocument } from './store.js';
