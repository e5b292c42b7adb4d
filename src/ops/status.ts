/**
 * `status`: is the file encrypted, for whom, and (when a key is available) is its MAC valid.
 */
import { NoKeyError, SealantError } from '../errors.js';
import { formatFromPath } from '../stores/index.js';
import type { FileFormat } from '../stores/store.js';
import { unwrapDataKey } from '../keys/datakey.js';
import { keySources, type KeyOptions, type OpsContext } from './context.js';
import { asEncrypted, decryptEncrypted, loadDocument } from '../document/document.js';
import { inFile, readBytes } from './read.js';

export interface StatusResult {
  file: string;
  format: FileFormat;
  encrypted: boolean;
  version?: string;
  lastmodified?: string;
  /** Master keys per key group: `age1…` recipients and KMS ARNs. */
  keyGroups?: { age: string[]; kms: string[]; other: string[] }[];
  shamirThreshold?: number;
  rule?: { field: string; value: string };
  macOnlyEncrypted?: boolean;
  /** true/false after checking with a key; null when no available key could open the file. */
  macValid?: boolean | null;
  /** Why the MAC could not be checked (no key, or the failure code). */
  macCheck?: string;
  unwrappedBy?: string[];
}

/**
 * Reports on the file at `path`. Never throws for a MAC mismatch or a missing key: those are
 * reported in the result.
 * @throws ReadError, ParseError, MetadataError.
 */
export async function statusFile(
  path: string,
  ctx: OpsContext,
  opts: KeyOptions & { inputType?: FileFormat; verify?: boolean } = {},
): Promise<StatusResult> {
  return statusText(await readBytes(path), path, ctx, opts);
}

/** {@link statusFile} on content already read (standard input); `path` names it in the result and errors. */
export async function statusText(
  input: string | Uint8Array,
  path: string,
  ctx: OpsContext,
  opts: KeyOptions & { inputType?: FileFormat; verify?: boolean } = {},
): Promise<StatusResult> {
  return inFile(path, async () => {
    const format = opts.inputType ?? formatFromPath(path);
    const doc = loadDocument(input, path, format);
    if (doc.metadata === undefined) return { file: path, format, encrypted: false };
    const enc = asEncrypted(doc);
    const { meta } = enc;
    const result: StatusResult = {
      file: path,
      format,
      encrypted: meta.version !== '' && meta.mac !== '',
      version: meta.version,
      lastmodified: meta.lastmodified,
      keyGroups: meta.keyGroups.map((g) => ({
        age: g.age.map((a) => a.recipient),
        kms: g.kms.map((k) => k.arn),
        other: g.other.map((o) => o.type),
      })),
      rule: meta.rule ?? { field: 'unencrypted_suffix', value: '_unencrypted' },
      macOnlyEncrypted: meta.macOnlyEncrypted,
    };
    if (meta.shamirThreshold !== undefined) result.shamirThreshold = meta.shamirThreshold;
    if (opts.verify === false) return result;
    try {
      const { dataKey, unwrappedBy } = await unwrapDataKey(meta, await keySources(ctx, opts));
      result.unwrappedBy = unwrappedBy;
      decryptEncrypted(enc, dataKey, { verifyOnly: true });
      result.macValid = true;
    } catch (e) {
      if (e instanceof NoKeyError) {
        result.macValid = null;
        result.macCheck = 'no available identity can unwrap the data key';
      } else if (e instanceof SealantError) {
        result.macValid = false;
        result.macCheck = e.code;
      } else throw e;
    }
    return result;
  });
}
