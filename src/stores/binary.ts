/**
 * The binary store (any file that is not YAML, JSON, dotenv or INI), as sops'
 * `stores/json/store.go` BinaryStore: the whole file is one value under the key `data`
 * (AAD `data:`); encrypted, it is a JSON envelope `{"data": "ENC[…]", "sops": {…}}`.
 *
 * The content is bytes, as in sops (a Go string holds any bytes): a PKCS#12 keystore or a DER
 * certificate is a `bytes` scalar (a `str` when it happens to be UTF-8 text), encrypted as
 * type `str`, and written back exactly.
 */
import { SealantError, UnsupportedDocumentError } from '../errors.js';
import type { MapNode } from '../format/tree.js';
import { content, map, notText, scalar } from '../format/tree.js';
import { utf8Text } from '../util/utf8.js';
import { singleDocument } from './common.js';
import { documentsOf, parseJson, renderJson } from './json.js';
import type { JsonSource } from './json.js';
import type { Store, StoreDocument } from './store.js';

/** The only key of a binary document. */
export const BINARY_DATA_KEY = 'data';

/** The JSON envelope of an encrypted binary file, or undefined when `text` is not one. */
function envelopeOf(
  text: string,
  file: string | undefined,
): { source: JsonSource; document: MapNode; metadata: MapNode } | undefined {
  // Cheap pre-check so large non-JSON files are not parsed.
  if (!/^[ \t\r\n]*\{/.test(text)) return undefined;
  try {
    const source = parseJson(text, file);
    const { document, metadata } = documentsOf(source, file);
    return metadata === undefined ? undefined : { source, document, metadata };
  } catch (e) {
    // Not JSON, or JSON that is not an envelope: then it is just the file's content.
    if (e instanceof SealantError) return undefined;
    throw e;
  }
}

/**
 * The raw file content of a decrypted binary document.
 * @throws UnsupportedDocumentError unless the document is exactly `{data: <string or bytes>}`.
 */
function rawData(doc: MapNode): Buffer {
  const entries = doc.items.filter((i) => i.kind === 'entry');
  const [entry] = entries;
  const value = entry?.kind === 'entry' && entry.value.kind === 'scalar' ? entry.value.value : undefined;
  if (entries.length !== 1 || entry?.key !== BINARY_DATA_KEY || (value?.type !== 'str' && value?.type !== 'bytes')) {
    throw new UnsupportedDocumentError('a binary file holds exactly one string under the key "data"', {
      path: [BINARY_DATA_KEY],
    });
  }
  return value.type === 'bytes' ? value.value : Buffer.from(value.value, 'utf8');
}

class BinaryDocument implements StoreDocument {
  readonly format = 'binary' as const;

  constructor(
    public documents: MapNode[],
    public metadata: MapNode | undefined,
    private readonly envelope: JsonSource | undefined,
  ) {}

  /**
   * The raw content when there is no metadata, else the JSON envelope (unchanged bytes kept).
   * @throws UnsupportedDocumentError for raw content that is not UTF-8 text (use `serializeBytes`).
   */
  serialize(): string {
    const doc = singleDocument(this.documents, 'binary');
    if (this.metadata === undefined) {
      const text = utf8Text(rawData(doc));
      if (text === undefined) throw notText([BINARY_DATA_KEY]);
      return text;
    }
    return renderJson(doc, this.metadata, this.envelope);
  }

  /** The exact bytes of the raw content (or of the envelope). */
  serializeBytes(): Buffer {
    if (this.metadata === undefined) return rawData(singleDocument(this.documents, 'binary'));
    return Buffer.from(this.serialize(), 'utf8');
  }
}

/**
 * The binary store. A plaintext file of any content loads as `{data: <content>}`; a SOPS JSON
 * envelope loads as its `data` document plus metadata.
 * @see Store
 */
export const binaryStore: Store & { load(input: string | Uint8Array, file?: string): StoreDocument } = {
  format: 'binary',
  /** Never throws for plaintext: any bytes are valid binary content (a string is UTF-8 content). */
  load(input: string | Uint8Array, file?: string): StoreDocument {
    const text = typeof input === 'string' ? input : utf8Text(input);
    const envelope = text === undefined ? undefined : envelopeOf(text, file);
    if (envelope !== undefined) return new BinaryDocument([envelope.document], envelope.metadata, envelope.source);
    const value = typeof input === 'string' ? { type: 'str' as const, value: input } : content(input);
    return new BinaryDocument([map([[BINARY_DATA_KEY, scalar(value)]])], undefined, undefined);
  },
  /** Raw content without metadata; with metadata, SOPS's JSON envelope (tab indent). */
  create(documents: MapNode[], metadata?: MapNode): StoreDocument {
    return new BinaryDocument(documents, metadata, undefined);
  },
};
