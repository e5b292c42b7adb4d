/**
 * Encrypts and decrypts whole documents in place, exactly as SOPS's `Tree.Encrypt`/`Decrypt`
 * walk them: leaves in document order, AAD = mapping keys joined by `:` plus a trailing `:`,
 * the selector deciding per leaf and per comment (with SOPS's comment stack), and the MAC over
 * the plaintext bytes of every non-null leaf.
 *
 * Ciphertext stability: decrypting records each value's IV under (AAD, type, plaintext); when
 * the same session re-encrypts an unchanged value at the same path, the IV is reused, which with
 * the same data key reproduces the original `ENC[...]` string byte for byte (SOPS does the same
 * in `aes/cipher.go`).
 */
import { DecryptionError, EncValueError, MacMismatchError, MacNotFoundError, SealantError } from '../errors.js';
import { bytesToScalar, decryptEnc, encryptBytes, encTypeOf, isEncValue, scalarBytes, type EncType } from './codec.js';
import { MacBuilder } from './mac.js';
import { utf8Text } from '../util/utf8.js';
import { macAad } from './metadata.js';
import type { Selector } from './selectors.js';
import type { CommentNode, MapNode, Node, ScalarNode, SeqNode, TreePath } from './tree.js';

/** One visited item with what the selector needs. */
interface Visit {
  node: ScalarNode | CommentNode;
  path: TreePath;
  keys: string[];
  stack: string[][];
}

function* walkMap(m: MapNode, path: TreePath, keys: string[], stack: string[][]): Generator<Visit> {
  const level: string[][] = [...stack, []];
  const top = () => level[level.length - 1]!;
  for (const item of m.items) {
    if (item.kind === 'comment') {
      top().push(item.text);
      yield { node: item, path, keys, stack: level.map((r) => [...r]) };
      continue;
    }
    yield* walkValue(item.value, [...path, item.key], [...keys, item.key], level);
    level[level.length - 1] = [];
  }
}

function* walkSeq(s: SeqNode, path: TreePath, keys: string[], stack: string[][]): Generator<Visit> {
  let index = 0;
  for (const item of s.items) {
    if (item.kind === 'comment') {
      stack[stack.length - 1]!.push(item.text);
      yield { node: item, path, keys, stack: stack.map((r) => [...r]) };
      continue;
    }
    yield* walkValue(item, [...path, index], keys, stack);
    index += 1;
    stack[stack.length - 1] = [];
  }
}

function* walkValue(n: Node, path: TreePath, keys: string[], stack: string[][]): Generator<Visit> {
  if (n.kind === 'map') yield* walkMap(n, path, keys, stack);
  else if (n.kind === 'seq') yield* walkSeq(n, path, keys, stack.length === 0 ? [[]] : stack);
  else yield { node: n, path, keys, stack: stack.map((r) => [...r]) };
}

/** Every leaf and comment of the documents, in SOPS's walk order. */
export function* visitDocuments(documents: readonly MapNode[]): Generator<Visit> {
  for (const doc of documents) yield* walkMap(doc, [], [], []);
}

function aadOf(keys: readonly string[]): string {
  return keys.length === 0 ? ':' : `${keys.join(':')}:`;
}

/** Remembers IVs of decrypted values so unchanged values re-encrypt to the same bytes. */
export class IvStash {
  private readonly ivs = new Map<string, Uint8Array>();

  private static id(aad: string, type: EncType, bytes: Uint8Array): string {
    return `${aad}\u0000${type}\u0000${Buffer.from(bytes).toString('base64')}`;
  }

  remember(aad: string, type: EncType, bytes: Uint8Array, iv: Uint8Array): void {
    this.ivs.set(IvStash.id(aad, type, bytes), iv);
  }

  lookup(aad: string, type: EncType, bytes: Uint8Array): Uint8Array | undefined {
    return this.ivs.get(IvStash.id(aad, type, bytes));
  }
}

export interface DecryptOptions {
  selector: Selector;
  macOnlyEncrypted: boolean;
  /** The encrypted MAC from the metadata ('' if missing). */
  mac: string;
  lastmodified: string;
  /** Skip the MAC comparison (the caller warns). */
  ignoreMac?: boolean;
  /** Filled with the IV of every decrypted value. */
  stash?: IvStash;
  /** Decrypt only to verify: leave the documents untouched. */
  verifyOnly?: boolean;
  /**
   * The binary store's document: content that is not UTF-8 text stays `bytes`. Any other store
   * refuses such a value, since its text could not hold it unchanged.
   */
  binary?: boolean;
}

export interface DecryptResult {
  /** Whether the recomputed MAC equals the stored one (false only with `ignoreMac`). */
  macValid: boolean;
  /**
   * Where comments sit that the rule selects but that did not decrypt (a ciphertext that fails
   * authentication, or clear text added by hand): the path of the mapping or list holding each.
   * They are kept as written, as sops keeps them (and warns).
   */
  undecryptableComments: TreePath[];
}

function withPath(e: unknown, path: TreePath): never {
  if (e instanceof SealantError && e.path === undefined) {
    throw Object.assign(Object.create(Object.getPrototypeOf(e) as object) as SealantError, e, {
      path,
      message: e.message,
    });
  }
  throw e;
}

/**
 * Decrypts every encrypted value and comment of `documents` in place and verifies the MAC.
 * @throws DecryptionError (exit 51) when a value fails authentication, naming its key path;
 * EncValueError for a malformed or unknown-type ENC value; MacMismatchError (exit 51) when the
 * MAC differs; MacNotFoundError when there is no MAC (unless `ignoreMac`).
 */
export function decryptDocuments(documents: MapNode[], key: Uint8Array, opts: DecryptOptions): DecryptResult {
  const mac = new MacBuilder(opts.macOnlyEncrypted);
  const undecryptableComments: TreePath[] = [];
  for (const v of visitDocuments(documents)) {
    const encrypted = opts.selector.shouldEncrypt(v.keys, v.stack, v.node.kind === 'comment');
    const aad = aadOf(v.keys);
    if (v.node.kind === 'comment') {
      // An empty comment is never encrypted (SOPS's cipher leaves "" as it is).
      if (!encrypted || v.node.text === '') continue;
      try {
        const r = decryptEnc(key, v.node.text, aad);
        const text = utf8Text(r.bytes);
        // Kept as written rather than changed, like a comment that does not decrypt.
        if (text === undefined) throw new EncValueError('decrypted comment is not valid UTF-8 text');
        opts.stash?.remember(aad, 'comment', r.bytes, r.iv);
        if (!opts.verifyOnly) v.node.text = text;
      } catch {
        undecryptableComments.push(v.path);
      }
      continue;
    }
    const value = v.node.value;
    if (value.type === 'null') continue;
    if (!encrypted || (value.type === 'str' && value.value === '')) {
      mac.add(scalarBytes(value), encrypted);
      continue;
    }
    if (value.type !== 'str' || !isEncValue(value.value)) {
      withPath(
        new DecryptionError('value should be encrypted but is in clear text', {
          hint: 'the file was edited by hand; encrypt the value with `sealant set`',
        }),
        v.path,
      );
    }
    let plain;
    try {
      const r = decryptEnc(key, value.value, aad);
      plain = bytesToScalar(r.bytes, r.type, opts.binary ?? false);
      opts.stash?.remember(aad, r.type, r.bytes, r.iv);
      mac.add(r.type === 'time' ? scalarBytes(plain) : r.bytes, true);
    } catch (e) {
      withPath(e, v.path);
    }
    if (!opts.verifyOnly) v.node.value = plain;
  }
  const computed = mac.hex();
  if (opts.mac === '') {
    if (opts.ignoreMac) return { macValid: false, undecryptableComments };
    throw new MacNotFoundError();
  }
  let stored: string;
  try {
    stored = decryptEnc(key, opts.mac, macAad(opts.lastmodified)).bytes.toString('utf8');
  } catch (e) {
    if (opts.ignoreMac) return { macValid: false, undecryptableComments };
    if (e instanceof EncValueError || e instanceof DecryptionError)
      throw new MacMismatchError({ path: ['sops', 'mac'] });
    throw e;
  }
  if (stored !== computed) {
    if (opts.ignoreMac) return { macValid: false, undecryptableComments };
    throw new MacMismatchError();
  }
  return { macValid: true, undecryptableComments };
}

export interface EncryptOptions {
  selector: Selector;
  macOnlyEncrypted: boolean;
  /** IVs of values decrypted earlier in this session (keeps unchanged ciphertexts). */
  stash?: IvStash;
}

/**
 * Encrypts every value and comment the selector selects, in place, and returns the MAC
 * plaintext (encrypt it with {@link encryptMac} once `lastmodified` is known).
 * @throws EncValueError when a value cannot be represented (e.g. a string that already looks
 * like an ENC value where a plaintext is expected).
 */
export function encryptDocuments(documents: MapNode[], key: Uint8Array, opts: EncryptOptions): string {
  const mac = new MacBuilder(opts.macOnlyEncrypted);
  for (const v of visitDocuments(documents)) {
    const encrypted = opts.selector.shouldEncrypt(v.keys, v.stack, v.node.kind === 'comment');
    const aad = aadOf(v.keys);
    if (v.node.kind === 'comment') {
      if (!encrypted || v.node.text === '') continue;
      v.node.text = encryptWithStash(key, Buffer.from(v.node.text, 'utf8'), aad, 'comment', opts.stash);
      continue;
    }
    const value = v.node.value;
    if (value.type === 'null') continue;
    const bytes = scalarBytes(value);
    mac.add(bytes, encrypted);
    if (!encrypted || (value.type === 'str' && value.value === '')) continue;
    v.node.value = { type: 'str', value: encryptWithStash(key, bytes, aad, encTypeOf(value), opts.stash) };
  }
  return mac.hex();
}

/** The `mac` field: the MAC plaintext encrypted with AAD = `lastmodified`. */
export function encryptMac(key: Uint8Array, macPlain: string, lastmodified: string): string {
  return encryptBytes(key, Buffer.from(macPlain, 'utf8'), macAad(lastmodified), 'str');
}

function encryptWithStash(
  key: Uint8Array,
  bytes: Uint8Array,
  aad: string,
  type: EncType,
  stash: IvStash | undefined,
): string {
  const iv = stash?.lookup(aad, type, bytes);
  // sops's `bytes` tag decrypts to the same bytes as `str` (and reads back as a string here): a
  // value left as it was keeps its tag with its ciphertext, as every unchanged value does.
  if (iv === undefined && type === 'str') {
    const kept = stash?.lookup(aad, 'bytes', bytes);
    if (kept !== undefined) return encryptBytes(key, bytes, aad, 'bytes', kept);
  }
  return iv === undefined ? encryptBytes(key, bytes, aad, type) : encryptBytes(key, bytes, aad, type, iv);
}

/**
 * Recomputes the MAC plaintext of decrypted documents (all values in clear) without changing them.
 */
export function computeMac(documents: readonly MapNode[], selector: Selector, macOnlyEncrypted: boolean): string {
  const mac = new MacBuilder(macOnlyEncrypted);
  for (const v of visitDocuments(documents)) {
    if (v.node.kind === 'comment' || v.node.value.type === 'null') continue;
    mac.add(scalarBytes(v.node.value), selector.shouldEncrypt(v.keys, v.stack, false));
  }
  return mac.hex();
}
