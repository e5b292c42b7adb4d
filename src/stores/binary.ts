/**
 * The binary store (any file that is not YAML, JSON, dotenv or INI), as sops'
 * `stores/json/store.go` BinaryStore: the whole file is one string under the key `data`
 * (AAD `data:`); encrypted, it is a JSON envelope `{"data": "ENC[…]", "sops": {…}}`.
 */
import { SealantError, UnsupportedDocumentError } from '../errors.js';
import type { MapNode } from '../format/tree.js';
import { map, str } from '../format/tree.js';
import { singleDocument } from './common.js';
import { documentsOf, parseJson, renderJson } from './json.js';
import type { JsonSource } from './json.js';
import type { Store, StoreDocument } from './store.js';

/** The only key of a binary document. */
export const BINARY_DATA_KEY = 'data';

/** The JSON envelope of an encrypted binary file, or undefined when `text` is not one. */
function envelopeOf(text: string, file: string | undefined): { source: JsonSource; document: MapNode; metadata: MapNode } | undefined {
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
 * @throws UnsupportedDocumentError unless the document is exactly `{data: <string>}`.
 */
function rawData(doc: MapNode): string {
  const entries = doc.items.filter((i) => i.kind === 'entry');
  const [entry] = entries;
  if (entries.length !== 1 || entry?.kind !== 'entry' || entry.key !== BINARY_DATA_KEY || entry.value.kind !== 'scalar' || entry.value.value.type !== 'str') {
    throw new UnsupportedDocumentError('a binary file holds exactly one string under the key "data"', { path: [BINARY_DATA_KEY] });
  }
  return entry.value.value.value;
}

class BinaryDocument implements StoreDocument {
  readonly format = 'binary' as const;

  constructor(
    public documents: MapNode[],
    public metadata: MapNode | undefined,
    private readonly envelope: JsonSource | undefined,
  ) {}

  /** The raw content when there is no metadata, else the JSON envelope (unchanged bytes kept). */
  serialize(): string {
    const doc = singleDocument(this.documents, 'binary');
    if (this.metadata === undefined) return rawData(doc);
    return renderJson(doc, this.metadata, this.envelope);
  }
}

/**
 * The binary store. A plaintext file of any content loads as `{data: <text>}`; a SOPS JSON
 * envelope loads as its `data` document plus metadata.
 * @see Store
 */
export const binaryStore: Store = {
  format: 'binary',
  /** Never throws for plaintext: any text is valid binary content. */
  load(text: string, file?: string): StoreDocument {
    const envelope = envelopeOf(text, file);
    if (envelope !== undefined) return new BinaryDocument([envelope.document], envelope.metadata, envelope.source);
    return new BinaryDocument([map([[BINARY_DATA_KEY, str(text)]])], undefined, undefined);
  },
  /** Raw content without metadata; with metadata, SOPS's JSON envelope (tab indent). */
  create(documents: MapNode[], metadata?: MapNode): StoreDocument {
    return new BinaryDocument(documents, metadata, undefined);
  },
};
