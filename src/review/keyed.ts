/**
 * The keyed review: both revisions are decrypted with the reviewer's identities and compared as
 * plaintexts, so a value re-encrypted under a new data key is "unchanged" when it is, and a
 * value is "changed" only when its plaintext differs.
 *
 * Values are masked: a reviewer sees lengths and a keyed fingerprint (`fp:3fa1c2`), never the
 * value, unless `showValues`. The fingerprint is HMAC-SHA256 under a key drawn at random for
 * each run — chosen over a key derived from the data key because
 * - it stays comparable across a rotation (old and new data keys differ, the run key does not),
 *   which is exactly when a reviewer needs "is this the same value?";
 * - a fingerprint published in a PR comment is no oracle: without the run key nobody can test
 *   guesses of a short secret against it, and the next run prints different fingerprints.
 * The price: fingerprints compare only within one report.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { NoKeyError, SealantError } from '../errors.js';
import { visitDocuments } from '../format/cipher.js';
import { asEncrypted, decryptEncrypted } from '../document/document.js';
import { formatPath } from '../errors.js';
import { scalarBytes } from '../format/codec.js';
import type { KeySources } from '../keys/datakey.js';
import { unwrapDataKey } from '../keys/datakey.js';
import { formatFromPath, loadContent } from '../stores/index.js';
import type { FileFormat } from '../stores/store.js';
import {
  readSide,
  reviewFile,
  reviewSides,
  type FileInput,
  type FileReview,
  type ReviewOptions,
  type Side,
} from './semantic.js';

/** Hex characters of the HMAC shown: 24 bits tell values apart in a review, and reveal little. */
const FINGERPRINT_HEX = 6;

/**
 * A fingerprint function under a fresh random key (or `key`, for tests). The type is part of
 * the input so that `1` (int) and `"1"` (str) differ, as they do in the file.
 */
export function fingerprinter(key: Uint8Array = randomBytes(32)): (type: string, plain: Buffer) => string {
  return (type, plain) =>
    `fp:${createHmac('sha256', key).update(type).update('\u0000').update(plain).digest('hex').slice(0, FINGERPRINT_HEX)}`;
}

/**
 * Decrypts one revision into a side whose encrypted leaves carry plaintexts. The MAC is checked
 * but a mismatch does not throw: the review reports it.
 * @throws NoKeyError when no identity opens the data key; DecryptionError when a value does not
 * authenticate; ParseError/MetadataError/EncValueError when the text is malformed (or, for a
 * text format, not UTF-8).
 */
export async function openSide(
  text: string | Uint8Array,
  file: string,
  format: FileFormat,
  sources: KeySources,
): Promise<Side> {
  const side = readSide(text, file, format);
  if (side.meta === undefined) return side;
  const doc = loadContent(text, format, file);
  const { dataKey } = await unwrapDataKey(side.meta, sources);
  const r = decryptEncrypted(asEncrypted(doc), dataKey, { ignoreMac: true });
  const prefixFor = (i: number) => (doc.documents.length > 1 ? `(document ${i + 1}) ` : '');
  doc.documents.forEach((d, i) => {
    for (const v of visitDocuments([d])) {
      if (v.node.kind === 'comment') continue;
      const leaf = side.leaves.get(prefixFor(i) + formatPath(v.path));
      if (leaf?.encrypted === true) leaf.plain = scalarBytes(v.node.value);
    }
  });
  return { ...side, dataKey, macValid: r.macValid };
}

/** Options of {@link reviewFileKeyed}. */
export interface KeyedOptions extends ReviewOptions {
  /** Throw when a side cannot be opened, instead of falling back to a keyless review. */
  strict?: boolean;
}

/**
 * Reviews one file with keys. A SOPS side that no identity opens makes the whole file keyless
 * (with a note saying why), unless `strict`.
 * @throws NoKeyError/DecryptionError only when `strict`.
 */
export async function reviewFileKeyed(
  input: FileInput,
  sources: KeySources,
  opts: KeyedOptions = {},
): Promise<FileReview> {
  const format = input.format ?? formatFromPath(input.file);
  let sides: [Side | undefined, Side | undefined];
  try {
    sides = [
      await maybeOpen(input.oldText, input.file, format, sources),
      await maybeOpen(input.newText, input.file, format, sources),
    ];
  } catch (e) {
    if (opts.strict === true || !(e instanceof SealantError)) throw e;
    const review = reviewFile(input, opts);
    review.notes.push(
      `compared without keys: ${e instanceof NoKeyError ? 'no available identity can decrypt one of the revisions' : e.message}`,
    );
    return review;
  }
  const review = reviewSides(input, format, sides[0], sides[1], 'keyed', opts);
  for (const [which, side] of [
    ['old', sides[0]],
    ['new', sides[1]],
  ] as const) {
    if (side?.macValid === false)
      review.alerts.push(
        `MAC MISMATCH in the ${which} revision: the file was modified without its key (tampered or hand-edited)`,
      );
  }
  return review;
}

async function maybeOpen(
  text: string | Uint8Array | undefined,
  file: string,
  format: FileFormat,
  sources: KeySources,
): Promise<Side | undefined> {
  return text === undefined ? undefined : openSide(text, file, format, sources);
}
