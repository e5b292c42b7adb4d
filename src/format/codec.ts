/**
 * The SOPS value codec (`aes/cipher.go`): `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` strings,
 * AES-256-GCM with a 32-byte IV and the key path as additional authenticated data, and the
 * mapping between typed scalars and the plaintext bytes SOPS encrypts and feeds to the MAC.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptionError, EncValueError } from '../errors.js';
import type { ScalarValue } from './tree.js';
import { invalidUtf8Offset, utf8Text } from '../util/utf8.js';
import { formatGoFloat } from './gofloat.js';

/** The `type:` tags SOPS writes. `bytes` is read but never written. */
export type EncType = 'str' | 'int' | 'float' | 'bool' | 'time' | 'comment' | 'bytes';
const ENC_TYPES: ReadonlySet<string> = new Set(['str', 'int', 'float', 'bool', 'time', 'comment', 'bytes']);

/** The parts of one `ENC[...]` string. */
export interface EncParts {
  data: Buffer;
  iv: Buffer;
  tag: Buffer;
  type: EncType;
}

// sops matches this regex unanchored at the end (aes/cipher.go); we do the same so files sops reads we read.
const ENC_RE = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]/s;
const B64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** True when `s` looks like an encrypted value (what SOPS would try to decrypt). */
export function isEncValue(s: string): boolean {
  return s.startsWith('ENC[AES256_GCM,');
}

function decodeB64(field: string, what: string): Buffer {
  if (!B64_RE.test(field) || field.length % 4 !== 0)
    throw new EncValueError(`malformed ENC value: ${what} is not valid base64`);
  return Buffer.from(field, 'base64');
}

/**
 * Parses an `ENC[...]` string.
 * @throws EncValueError when the string is not in SOPS's format or its type is unknown.
 * The message never contains the string itself.
 */
export function parseEnc(s: string): EncParts {
  const m = ENC_RE.exec(s);
  if (m === null)
    throw new EncValueError('malformed ENC value: does not match ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]');
  const [, data, iv, tag, type] = m as unknown as [string, string, string, string, string];
  if (!ENC_TYPES.has(type)) throw new EncValueError(`unknown ENC value type "${type.slice(0, 16)}"`);
  const parts = {
    data: decodeB64(data, 'data'),
    iv: decodeB64(iv, 'iv'),
    tag: decodeB64(tag, 'tag'),
    type: type as EncType,
  };
  if (parts.iv.length === 0) throw new EncValueError('malformed ENC value: empty iv');
  if (parts.tag.length !== 16) throw new EncValueError('malformed ENC value: tag is not 16 bytes');
  return parts;
}

/** Formats the parts as SOPS writes them (standard base64 with padding). */
export function formatEnc(p: EncParts): string {
  return `ENC[AES256_GCM,data:${p.data.toString('base64')},iv:${p.iv.toString('base64')},tag:${p.tag.toString('base64')},type:${p.type}]`;
}

/**
 * Encrypts `plaintext` under `key` with AAD `aad`. A fresh random 32-byte IV is used unless
 * `iv` is given (re-using an IV is only sound for the same key, AAD and plaintext: that is how
 * unchanged values keep their ciphertext).
 */
export function encryptBytes(
  key: Uint8Array,
  plaintext: Uint8Array,
  aad: string,
  type: EncType,
  iv: Uint8Array = randomBytes(32),
): string {
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return formatEnc({ data, iv: Buffer.from(iv), tag: cipher.getAuthTag(), type });
}

/**
 * Decrypts an `ENC[...]` string.
 * @throws EncValueError for a malformed string; DecryptionError when authentication fails
 * (wrong key, wrong path, or tampering).
 */
export function decryptEnc(key: Uint8Array, enc: string, aad: string): { bytes: Buffer; type: EncType; iv: Buffer } {
  const p = parseEnc(enc);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, p.iv);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(p.tag);
    const bytes = Buffer.concat([decipher.update(p.data), decipher.final()]);
    return { bytes, type: p.type, iv: p.iv };
  } catch {
    throw new DecryptionError('could not decrypt value: authentication failed');
  }
}

/** The ENC type tag for a scalar. Binary content is `str`, as sops writes its binary store's `data`. */
export function encTypeOf(v: ScalarValue): EncType {
  if (v.type === 'null') throw new TypeError('null values are never encrypted');
  return v.type === 'bytes' ? 'str' : v.type;
}

/**
 * The plaintext bytes SOPS encrypts for a scalar and feeds to the MAC (`sops.go` ToBytes):
 * ints in decimal, floats in Go 'f' format, bools as `True`/`False`, times as RFC 3339.
 */
export function scalarBytes(v: ScalarValue): Buffer {
  switch (v.type) {
    case 'str':
      return Buffer.from(v.value, 'utf8');
    case 'int':
      return Buffer.from(v.value.toString(), 'utf8');
    case 'float':
      return Buffer.from(formatGoFloat(v.value), 'utf8');
    case 'bool':
      return Buffer.from(v.value ? 'True' : 'False', 'utf8');
    case 'time':
      return Buffer.from(goTimeText(v.value) ?? v.value, 'utf8');
    case 'bytes':
      return v.value;
    case 'null':
      return Buffer.alloc(0);
  }
}

const GO_BOOL_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_BOOL_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/**
 * Turns decrypted bytes back into a typed scalar, parsing as SOPS does (Go `Atoi`,
 * `ParseFloat`, `ParseBool`, `time.UnmarshalText`).
 * @param binary - the value is the binary store's content: bytes that are not UTF-8 stay bytes.
 * @throws EncValueError when the bytes do not parse as the declared type, or a string is not
 * valid UTF-8 text (outside the binary store: a text file cannot hold it unchanged).
 */
export function bytesToScalar(bytes: Buffer, type: EncType, binary = false): ScalarValue {
  const text = utf8Text(bytes);
  switch (type) {
    case 'str':
    case 'bytes':
    case 'comment':
      if (text !== undefined) return { type: 'str', value: text };
      if (binary && type !== 'comment') return { type: 'bytes', value: bytes };
      throw new EncValueError(
        `decrypted value is not valid UTF-8 text (invalid byte at offset ${invalidUtf8Offset(bytes)})`,
      );
  }
  if (text === undefined) throw new EncValueError(`decrypted value is not a valid ${type}`);
  switch (type) {
    case 'int':
      if (!/^[+-]?\d+$/.test(text)) throw new EncValueError('decrypted value is not a valid int');
      return { type: 'int', value: BigInt(text) };
    case 'float': {
      const n = parseGoFloat(text);
      if (n === undefined) throw new EncValueError('decrypted value is not a valid float');
      return { type: 'float', value: n };
    }
    case 'bool':
      if (GO_BOOL_TRUE.has(text)) return { type: 'bool', value: true };
      if (GO_BOOL_FALSE.has(text)) return { type: 'bool', value: false };
      throw new EncValueError('decrypted value is not a valid bool');
    case 'time': {
      const t = goTimeText(text);
      if (t === undefined) throw new EncValueError('decrypted value is not a valid time');
      return { type: 'time', value: t };
    }
  }
}

function parseGoFloat(text: string): number | undefined {
  const t = text.replace(/^\+/, '');
  if (/^(inf|infinity)$/i.test(t)) return Infinity;
  if (/^-(inf|infinity)$/i.test(t)) return -Infinity;
  if (/^nan$/i.test(t)) return NaN;
  if (!/^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}

const TIME_RE = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:([Tt ])(\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * The Go `time.MarshalText` form (RFC 3339, fraction trimmed, `Z` for UTC) of a timestamp in
 * one of the layouts go-yaml accepts, or `undefined` if `text` is not such a timestamp.
 */
export function goTimeText(text: string): string | undefined {
  const m = TIME_RE.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, sep, h, mi, s, frac, zone] = m;
  // go-yaml's zone-less "2006-1-2 15:4:5" layout only exists with a space; T/t need a zone.
  if (sep !== undefined && sep !== ' ' && zone === undefined) return undefined;
  if (sep === ' ' && zone !== undefined) return undefined;
  const year = Number(y),
    month = Number(mo),
    day = Number(d);
  const hour = Number(h ?? 0),
    minute = Number(mi ?? 0),
    second = Number(s ?? 0);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59)
    return undefined;
  const p2 = (n: number) => String(n).padStart(2, '0');
  let out = `${String(year).padStart(4, '0')}-${p2(month)}-${p2(day)}T${p2(hour)}:${p2(minute)}:${p2(second)}`;
  const fraction = (frac ?? '').slice(1, 10).replace(/0+$/, '');
  if (fraction !== '') out += `.${fraction}`;
  out += zone === undefined || zone === 'Z' || zone === '+00:00' || zone === '-00:00' ? 'Z' : zone;
  return out;
}
