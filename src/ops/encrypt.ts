/**
 * `encrypt`: a plaintext file to a new SOPS file (new data key, every selected value encrypted,
 * metadata block appended in the file's own layout).
 */
import { AlreadyEncryptedError, NoRecipientsError } from '../errors.js';
import { encryptDocuments, encryptMac } from '../format/cipher.js';
import { buildMetadata, formatLastModified } from '../format/metadata.js';
import { DEFAULT_CRYPT_RULE, Selector, type CryptRule } from '../format/selectors.js';
import { cloneNode } from '../format/tree.js';
import { newDataKey, wrapDataKey, type GroupRecipients, type KeySources } from '../keys/datakey.js';
import { parseAgeRecipient } from '../keys/age.js';
import { formatFromPath, storeFor } from '../stores/index.js';
import type { FileFormat } from '../stores/store.js';
import type { OpsContext } from './context.js';
import { inFile, loadDocument, readText } from './document.js';

export interface EncryptOptions {
  /** Key groups to wrap the data key for (one group unless Shamir is wanted). */
  groups: GroupRecipients[];
  shamirThreshold?: number;
  rule?: CryptRule;
  macOnlyEncrypted?: boolean;
  inputType?: FileFormat;
  outputType?: FileFormat;
  kms?: KeySources['kms'];
}

export interface EncryptResult {
  text: string;
  format: FileFormat;
  recipients: string[];
}

/** Splits `--age r1,r2` values into validated recipients. @throws KeyFormatError */
export function parseAgeRecipientList(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((r) => r.trim()).filter((r) => r !== '').map(parseAgeRecipient);
}

/**
 * Encrypts the plaintext file at `path`.
 * @throws ReadError, ParseError, AlreadyEncryptedError (203), NoRecipientsError (111), KeyFormatError.
 */
export async function encryptFile(path: string, ctx: OpsContext, opts: EncryptOptions): Promise<EncryptResult> {
  const text = await readText(path);
  return inFile(path, () => encryptText(text, path, ctx, opts));
}

/** {@link encryptFile} on text already read. */
export async function encryptText(text: string, file: string, ctx: OpsContext, opts: EncryptOptions): Promise<EncryptResult> {
  const inputType = opts.inputType ?? formatFromPath(file);
  const outputType = opts.outputType ?? inputType;
  if (opts.groups.length === 0 || opts.groups.every((g) => g.age.length + g.kms.length === 0)) throw new NoRecipientsError();
  const loaded = loadDocument(text, file, inputType);
  if (loaded.metadata !== undefined) throw new AlreadyEncryptedError();
  const doc = outputType === inputType ? loaded : storeFor(outputType).create(loaded.documents.map((d) => cloneNode(d)));
  const rule = opts.rule ?? DEFAULT_CRYPT_RULE;
  const macOnlyEncrypted = opts.macOnlyEncrypted ?? false;
  const dataKey = newDataKey();
  const groups = await wrapDataKey(dataKey, opts.groups, opts.shamirThreshold, { kms: opts.kms });
  const macPlain = encryptDocuments(doc.documents, dataKey, { selector: new Selector(rule), macOnlyEncrypted });
  const lastmodified = formatLastModified(ctx.now());
  doc.metadata = buildMetadata({
    groups,
    shamirThreshold: opts.shamirThreshold,
    lastmodified,
    mac: encryptMac(dataKey, macPlain, lastmodified),
    rule,
    macOnlyEncrypted,
  });
  const recipients = opts.groups.flatMap((g) => [...g.age, ...g.kms.map((k) => k.arn)]);
  return { text: doc.serialize(), format: outputType, recipients };
}
