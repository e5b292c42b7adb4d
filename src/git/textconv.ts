/**
 * The text git shows for an encrypted file (`diff.sealant.textconv`): decrypted when one of the
 * reader's age identities opens it, else a keyless semantic view — one line per key path with
 * its type and a short hash of its ciphertext, then the recipients.
 *
 * git hands textconv a temporary copy (`/tmp/XXXXXX_name.yaml`), never the real path, so
 * nothing here looks the file up in the project config: the environment, rule and recipients
 * come from the file's own `sops` block. The view must be stable — the same bytes always give
 * the same text — so `mac` and `lastmodified`, which change on every write, are left out.
 */
import { createHash } from 'node:crypto';
import { SealantError } from '../errors.js';
import type { KeySources } from '../keys/datakey.js';
import { asEncrypted, loadDocument, openDocument } from '../document/document.js';
import { groupNames } from '../keys/recipients.js';
import { readSide, type Leaf } from '../review/semantic.js';
import { formatFromPath } from '../stores/index.js';
import type { FileFormat } from '../stores/store.js';

/** Hex characters of the ciphertext hash: enough to tell values apart, short enough to read. */
const HASH_HEX = 12;

/** Which view {@link textconvView} produced. */
export type TextconvMode = 'decrypted' | 'keyless' | 'raw';

/** The text to show and how it was made. */
export interface TextconvResult {
  text: string;
  mode: TextconvMode;
}

/**
 * The stable text view of one file's content.
 *
 * A text that does not parse, or has no `sops` block, is returned as is: a plaintext file must
 * look like what it is in a review. `sources` undefined means keyless.
 * @throws nothing for content problems (they fall back to the raw or keyless view); only
 * unexpected internal errors propagate.
 */
export async function textconvView(
  text: string,
  file: string,
  sources: KeySources | undefined,
  format?: FileFormat,
): Promise<TextconvResult> {
  const fmt = format ?? safeFormat(file);
  if (fmt === undefined || !text.includes('sops')) return { text, mode: 'raw' };
  let keylessNote: string | undefined;
  if (sources !== undefined) {
    try {
      return { text: await decryptedView(text, file, fmt, sources), mode: 'decrypted' };
    } catch (e) {
      if (!(e instanceof SealantError)) throw e;
      keylessNote = `# sealant: shown without keys (${e.code === 'NO_KEY' ? 'no available identity opens this file' : e.code})`;
    }
  }
  try {
    const view = keylessView(text, file, fmt);
    if (view === undefined) return { text, mode: 'raw' };
    return { text: keylessNote === undefined ? view : `${keylessNote}\n${view}`, mode: 'keyless' };
  } catch (e) {
    if (e instanceof SealantError) return { text, mode: 'raw' };
    throw e;
  }
}

function safeFormat(file: string): FileFormat | undefined {
  try {
    return formatFromPath(file);
  } catch {
    return undefined;
  }
}

/** The decrypted file (as `sealant decrypt` prints it) plus a footer with the recipients. */
async function decryptedView(text: string, file: string, format: FileFormat, sources: KeySources): Promise<string> {
  const opened = await openDocument(asEncrypted(loadDocument(text, file, format)), sources, { ignoreMac: true });
  const footer = recipientLines(opened.meta.keyGroups.flatMap((g) => groupNames(g)));
  // A MAC mismatch is shown, not hidden: the reviewer must see the file was edited without its key.
  if (!opened.macValid) footer.unshift('# sealant: MAC MISMATCH (modified without its key)');
  opened.doc.metadata = undefined;
  const body = opened.doc.serialize();
  return `${body}${body.endsWith('\n') ? '' : '\n'}${footer.join('\n')}\n`;
}

/** undefined when the text has no `sops` block. */
function keylessView(text: string, file: string, format: FileFormat): string | undefined {
  const side = readSide(text, file, format);
  if (!side.sops || side.meta === undefined) return undefined;
  const lines = [...side.leaves].map(([path, leaf]) => leafLine(path, leaf));
  lines.push(...recipientLines(side.meta.keyGroups.flatMap((g) => groupNames(g))));
  return `${lines.join('\n')}\n`;
}

/** `db.password: ENC[str] #1a2b3c4d5e6f` — the hash is of the public ciphertext, never of a value. */
function leafLine(path: string, leaf: Leaf): string {
  if (leaf.encrypted)
    return `${path}: ENC[${leaf.type}] #${createHash('sha256')
      .update(leaf.ciphertext ?? '')
      .digest('hex')
      .slice(0, HASH_HEX)}`;
  // Clear values are in clear in the file already (outside the encryption rule).
  return `${path}: ${leaf.plain?.toString('utf8') ?? ''} (clear ${leaf.type})`;
}

function recipientLines(names: string[]): string[] {
  return [...new Set(names)].sort().map((n) => `# sops recipient: ${n}`);
}
