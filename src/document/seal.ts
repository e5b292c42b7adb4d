/**
 * Writing an opened (decrypted) document back: re-encrypt with the same data key, reusing IVs so
 * unchanged values keep their ciphertext, and refresh `mac` and `lastmodified` only when
 * something actually changed.
 */
import { encryptDocuments, encryptMac } from '../format/cipher.js';
import { formatLastModified, setMetadataField } from '../format/metadata.js';
import type { OpenedDocument } from './document.js';

/**
 * Re-encrypts `opened` in place and returns the new file text, or `undefined` when the result
 * is byte-identical to `originalText` (nothing to write).
 */
export function sealDocument(opened: OpenedDocument, originalText: string, now: Date): string | undefined {
  const { doc, dataKey, selector, meta } = opened;
  const macPlain = encryptDocuments(doc.documents, dataKey, {
    selector,
    macOnlyEncrypted: meta.macOnlyEncrypted,
    stash: opened.stash,
  });
  const metadata = doc.metadata!;
  // First with the old mac/lastmodified: if every value re-encrypted to its old bytes, nothing changed.
  if (doc.serialize() === originalText) return undefined;
  const lastmodified = formatLastModified(now);
  setMetadataField(metadata, 'lastmodified', lastmodified);
  setMetadataField(metadata, 'mac', encryptMac(dataKey, macPlain, lastmodified));
  return doc.serialize();
}
