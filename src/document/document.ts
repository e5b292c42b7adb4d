/**
 * One SOPS file in memory: its content loaded into a store, the typed view of its metadata, and
 * opening it (unwrap the data key, decrypt, verify the MAC). Pure: bytes or text in, document out;
 * reading the file is the caller's (ops/read.ts).
 */
import { formatPath, NotSopsFileError } from '../errors.js';
import { IvStash, decryptDocuments, type DecryptOptions, type DecryptResult } from '../format/cipher.js';
import { parseMetadata, type SopsMetadata } from '../format/metadata.js';
import type { TreePath } from '../format/tree.js';
import { DEFAULT_CRYPT_RULE, Selector } from '../format/selectors.js';
import type { KeySources } from '../keys/datakey.js';
import { unwrapDataKey } from '../keys/datakey.js';
import { formatFromPath, loadContent } from '../stores/index.js';
import type { FileFormat, StoreDocument } from '../stores/store.js';
import { notText, walk, type MapNode } from '../format/tree.js';

/**
 * Loads a file's content with the store for `format` (or the one the file name implies). Bytes
 * stay bytes for the binary store; every other store needs valid UTF-8.
 * @throws ParseError (with the byte offset) for bytes that are not UTF-8, and as the store does.
 */
export function loadDocument(input: string | Uint8Array, file: string, format?: FileFormat): StoreDocument {
  return loadContent(input, format ?? formatFromPath(file), file);
}

/**
 * Refuses binary content (bytes that are not UTF-8) bound for a text store.
 * @throws UnsupportedDocumentError naming the value's path.
 */
export function refuseBinaryContent(documents: readonly MapNode[]): void {
  for (const d of documents) {
    for (const v of walk(d)) if (v.kind === 'scalar' && v.node.value.type === 'bytes') throw notText(v.path);
  }
}

/** The exact bytes of a document (binary content need not be UTF-8 text). */
export function documentBytes(doc: StoreDocument): Buffer {
  return doc.serializeBytes?.() ?? Buffer.from(doc.serialize(), 'utf8');
}

/** An encrypted document with its typed metadata. */
export interface EncryptedDocument {
  doc: StoreDocument;
  meta: SopsMetadata;
  selector: Selector;
}

/** @throws NotSopsFileError when the document has no `sops` block (or no version/mac). */
export function asEncrypted(doc: StoreDocument): EncryptedDocument {
  if (doc.metadata === undefined) throw new NotSopsFileError();
  const meta = parseMetadata(doc.metadata);
  return { doc, meta, selector: new Selector(meta.rule ?? DEFAULT_CRYPT_RULE) };
}

/**
 * Decrypts `enc`'s documents in place with `dataKey` under its own rule, and verifies its MAC
 * (the binary store's content may stay bytes; no other store's may).
 * @throws as {@link decryptDocuments}.
 */
export function decryptEncrypted(
  enc: EncryptedDocument,
  dataKey: Uint8Array,
  opts: Pick<DecryptOptions, 'ignoreMac' | 'stash' | 'verifyOnly'> = {},
): DecryptResult {
  return decryptDocuments(enc.doc.documents, dataKey, {
    ...opts,
    selector: enc.selector,
    macOnlyEncrypted: enc.meta.macOnlyEncrypted,
    mac: enc.meta.mac,
    lastmodified: enc.meta.lastmodified,
    binary: enc.doc.format === 'binary',
  });
}

export interface OpenedDocument extends EncryptedDocument {
  dataKey: Uint8Array;
  unwrappedBy: string[];
  macValid: boolean;
  stash: IvStash;
  /** Where selected comments did not decrypt (kept as written); see {@link warnUndecryptableComments}. */
  undecryptableComments: TreePath[];
}

/**
 * Unwraps the data key and decrypts the document in place (MAC verified unless `ignoreMac`).
 * @throws NoKeyError (128), MacMismatchError (51), DecryptionError (51), EncValueError.
 */
export async function openDocument(
  enc: EncryptedDocument,
  sources: KeySources,
  opts: { ignoreMac?: boolean } = {},
): Promise<OpenedDocument> {
  const { dataKey, unwrappedBy } = await unwrapDataKey(enc.meta, sources);
  const stash = new IvStash();
  const r = decryptEncrypted(enc, dataKey, { ignoreMac: opts.ignoreMac ?? false, stash });
  return { ...enc, dataKey, unwrappedBy, macValid: r.macValid, stash, undecryptableComments: r.undecryptableComments };
}

/**
 * sops warns about each comment it could not decrypt and prints it as written; so do we. The
 * MAC does not cover comments, so such a comment may have been put there by anyone: the warning
 * names where it is, never its text.
 */
export function warnUndecryptableComments(opened: OpenedDocument, file: string, warn: (message: string) => void): void {
  for (const path of opened.undecryptableComments) {
    const where = path.length === 0 ? 'at the top level' : `under ${formatPath(path)}`;
    warn(
      `${file}: a comment ${where} did not decrypt and is kept as written (added by hand, by an old sops, or tampered with: the MAC does not cover comments)`,
    );
  }
}
