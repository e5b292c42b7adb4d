/**
 * `encrypt`: a plaintext file to a new SOPS file (new data key, every selected value encrypted,
 * metadata block appended in the file's own layout).
 */
import { AlreadyEncryptedError, EmptyFileError, NoRecipientsError } from '../errors.js';
import { encryptDocuments, encryptMac } from '../format/cipher.js';
import { buildMetadata, formatLastModified } from '../format/metadata.js';
import {
  cryptRuleFrom,
  DEFAULT_CRYPT_RULE,
  Selector,
  type CryptRule,
  type CryptRuleField,
} from '../format/selectors.js';
import { cloneNode } from '../format/tree.js';
import {
  newDataKey,
  recipientCount,
  wrapDataKey,
  type GroupRecipients,
  type KeySources,
  type KmsRecipient,
} from '../keys/datakey.js';
import { parseAgeRecipient } from '../keys/age.js';
import { parsePgpFingerprint } from '../keys/pgp.js';
import { formatFromPath, storeFor } from '../stores/index.js';
import type { FileFormat } from '../stores/store.js';
import { networkKeySources, type OpsContext } from './context.js';
import { groupNames } from '../keys/recipients.js';
import { environmentFor, loadProjectConfig } from '../config/index.js';
import { ConfigError, KeyFormatError, UsageError } from '../errors.js';
import type { EnvironmentConfig } from '../config/model.js';
import { loadDocument, openDocument, refuseBinaryContent } from '../document/document.js';
import { inFile, readBytes, readText } from './read.js';
import { sealDocument } from '../document/seal.js';
import { STDIN_NAME } from '../fsx/stdin.js';
import { reconcileDocuments } from '../format/reconcile.js';
import { loadForWrite } from './authority.js';

export interface EncryptOptions {
  /** Key groups to wrap the data key for (one group unless Shamir is wanted). */
  groups: GroupRecipients[];
  shamirThreshold?: number;
  rule?: CryptRule;
  macOnlyEncrypted?: boolean;
  inputType?: FileFormat;
  outputType?: FileFormat;
  /** KMS/PGP sources (default: loaded lazily from the context when a recipient needs them). */
  sources?: Pick<KeySources, 'kms' | 'pgp'>;
}

export interface EncryptResult {
  text: string;
  format: FileFormat;
  recipients: string[];
}

/** Splits `--age r1,r2` values into validated recipients. @throws KeyFormatError */
export function parseAgeRecipientList(values: readonly string[]): string[] {
  return commaList(values).map(parseAgeRecipient);
}

/** The entries of comma-separated flag values, trimmed, empty ones dropped. */
function commaList(values: readonly string[]): string[] {
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/** Splits `--pgp fp1,fp2` values into validated fingerprints. @throws KeyFormatError */
export function parsePgpList(values: readonly string[]): string[] {
  return commaList(values).map(parsePgpFingerprint);
}

/**
 * The rule flags (`--unencrypted-suffix` …, by their `.sops.yaml` names) as one rule.
 * @throws UsageError when more than one is set (SOPS refuses too).
 */
export function cryptRuleFromFlags(fields: Partial<Record<CryptRuleField, string | undefined>>): CryptRule | undefined {
  return cryptRuleFrom(fields);
}

/**
 * Parses SOPS's `--kms` syntax: comma-separated ARNs, each optionally `+role-arn`, with one
 * `--encryption-context k:v,k2:v2` and `--aws-profile` applying to all.
 * @throws KeyFormatError for a malformed ARN or context.
 */
export function parseKmsList(values: readonly string[], context?: string, awsProfile?: string): KmsRecipient[] {
  const ctx = context === undefined || context === '' ? undefined : parseEncryptionContext(context);
  return commaList(values).map((entry) => {
    const [arn, role] = entry.split('+');
    if (!/^arn:aws[\w-]*:kms:(.+):[0-9]+:(key|alias)\/.+$/.test(arn ?? ''))
      throw new KeyFormatError(`invalid KMS key ARN "${arn ?? ''}"`);
    return {
      arn: arn!,
      ...(role === undefined ? {} : { role }),
      ...(ctx === undefined ? {} : { context: ctx }),
      ...(awsProfile === undefined ? {} : { awsProfile }),
    };
  });
}

function parseEncryptionContext(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const i = pair.indexOf(':');
    if (i <= 0) throw new KeyFormatError('invalid --encryption-context: use key:value,key2:value2');
    Object.defineProperty(out, pair.slice(0, i), {
      value: pair.slice(i + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Recipient and rule flags of `encrypt`, before the config is consulted. */
export interface EncryptFlags {
  age: string[];
  kms: KmsRecipient[];
  pgp: string[];
  shamirThreshold?: number;
  rule?: CryptRule;
  macOnlyEncrypted?: boolean;
  configPath?: string;
}

/**
 * What to encrypt `file` to, as SOPS decides: recipient flags (or `SOPS_AGE_RECIPIENTS`)
 * replace the config's keys entirely; otherwise the file's environment in `.sealant.yaml` or the
 * first matching `.sops.yaml` creation rule. Rule flags win over the config's rule. `file`
 * undefined is standard input: it has no path an environment could own (sops, too, wants a
 * `--filename-override` before it consults its config for stdin), so recipients must be given.
 * @throws NoRecipientsError when neither flags nor a config name a recipient.
 */
export async function encryptSettings(
  file: string | undefined,
  ctx: OpsContext,
  flags: EncryptFlags,
): Promise<
  Pick<EncryptOptions, 'groups' | 'shamirThreshold' | 'rule' | 'macOnlyEncrypted'> & { environment?: string }
> {
  const envAge = ctx.env.SOPS_AGE_RECIPIENTS;
  const age =
    flags.age.length > 0 ? flags.age : envAge !== undefined && envAge !== '' ? parseAgeRecipientList([envAge]) : [];
  const base = {
    ...(flags.rule === undefined ? {} : { rule: flags.rule }),
    ...(flags.macOnlyEncrypted ? { macOnlyEncrypted: true } : {}),
  };
  if (age.length + flags.kms.length + flags.pgp.length > 0) {
    if (flags.shamirThreshold !== undefined)
      throw new UsageError('--shamir-secret-sharing-threshold needs key groups from the config');
    return { ...base, groups: [{ age, kms: flags.kms, pgp: flags.pgp }] };
  }
  if (file === undefined)
    throw new NoRecipientsError({
      file: STDIN_NAME,
      hint: 'standard input has no path to find its environment by: pass --age age1… (or --kms, --pgp, SOPS_AGE_RECIPIENTS)',
    });
  const config = await loadProjectConfig({
    cwd: ctx.cwd,
    env: ctx.env,
    ...(flags.configPath === undefined ? {} : { path: flags.configPath }),
  });
  const env = config === undefined ? undefined : environmentFor(config, file, ctx.cwd);
  if (env !== undefined) refuseUnsupportedKeys(env);
  if (env === undefined)
    throw new NoRecipientsError({
      file,
      hint:
        config === undefined
          ? 'pass --age age1… or create .sealant.yaml / .sops.yaml'
          : 'no environment of the config owns this file; pass --age or add its path to an environment',
    });
  return {
    groups: env.groups,
    environment: env.name,
    ...(env.shamirThreshold === undefined ? {} : { shamirThreshold: flags.shamirThreshold ?? env.shamirThreshold }),
    ...(env.rule === undefined ? {} : { rule: env.rule }),
    ...(env.macOnlyEncrypted === undefined ? {} : { macOnlyEncrypted: env.macOnlyEncrypted }),
    ...base,
  };
}

/**
 * A `.sops.yaml` rule may name key types sealant cannot use yet (GCP KMS, Azure, Vault): encrypting
 * without them would silently give fewer people access than sops would.
 * @throws ConfigError naming the environment and the key types.
 */
export function refuseUnsupportedKeys(env: EnvironmentConfig): void {
  const unsupported = env.unsupportedKeys ?? [];
  if (unsupported.length > 0) {
    throw new ConfigError(
      `environment "${env.name}" names ${unsupported.join(', ')} keys, which sealant cannot use yet`,
      { hint: 'use sops for these files, or remove those keys from the rule' },
    );
  }
}

/**
 * Encrypts the plaintext file at `path`.
 * @throws ReadError, ParseError, AlreadyEncryptedError (203), EmptyFileError (204),
 * NoRecipientsError (111), KeyFormatError.
 */
export async function encryptFile(path: string, ctx: OpsContext, opts: EncryptOptions): Promise<EncryptResult> {
  const input = await readBytes(path);
  return inFile(path, () => encryptText(input, path, ctx, opts));
}

/** {@link encryptFile} on content already read (text, or the file's bytes). */
export async function encryptText(
  input: string | Uint8Array,
  file: string,
  ctx: OpsContext,
  opts: EncryptOptions,
): Promise<EncryptResult> {
  const inputType = opts.inputType ?? formatFromPath(file);
  const outputType = opts.outputType ?? inputType;
  if (opts.groups.length === 0 || opts.groups.every((g) => recipientCount(g) === 0)) throw new NoRecipientsError();
  const loaded = loadDocument(input, file, inputType);
  if (loaded.metadata !== undefined) throw new AlreadyEncryptedError();
  // An empty YAML file has no document: sops refuses it rather than write a file of 0 bytes.
  if (loaded.documents.length === 0) throw new EmptyFileError();
  // Checked before anything is encrypted: once it is, no text store notices it could not decrypt it back.
  if (outputType !== 'binary') refuseBinaryContent(loaded.documents);
  const doc =
    outputType === inputType ? loaded : storeFor(outputType).create(loaded.documents.map((d) => cloneNode(d)));
  const rule = opts.rule ?? DEFAULT_CRYPT_RULE;
  const macOnlyEncrypted = opts.macOnlyEncrypted ?? false;
  const dataKey = newDataKey();
  const groups = await wrapDataKey(dataKey, opts.groups, opts.shamirThreshold, opts.sources ?? networkKeySources(ctx));
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
  const recipients = opts.groups.flatMap(groupNames);
  return { text: doc.serialize(), format: outputType, recipients };
}

/**
 * Encrypts `text` over an existing encrypted version of it (`encrypt --output TARGET` when
 * TARGET is already a SOPS file): the target's data key, recipients and rule are kept, and every
 * value that did not change keeps its exact ciphertext, so re-encrypting an edited plaintext
 * gives a reviewable diff. Returns `undefined` when the target already holds this content.
 * @throws NoKeyError when no available key opens the target; ParseError for either input;
 * WeakenedMetadataError (53) when the config owns the target and its `sops` block is weaker.
 */
export async function encryptOver(
  input: string | Uint8Array,
  file: string,
  previousText: string,
  previousFile: string,
  ctx: OpsContext,
  opts: { sources: KeySources; inputType?: FileFormat; configPath?: string },
): Promise<EncryptResult | undefined> {
  const loaded = loadDocument(input, file, opts.inputType ?? formatFromPath(file));
  if (loaded.metadata !== undefined) throw new AlreadyEncryptedError();
  if (loaded.documents.length === 0) throw new EmptyFileError();
  const format = formatFromPath(previousFile);
  if (format !== 'binary') refuseBinaryContent(loaded.documents);
  // The target's data key, recipients and rule are kept: they must be what the config says.
  const previous = await inFile(previousFile, () =>
    loadForWrite(previousText, previousFile, ctx, { stanzas: 'kept', format, owner: { configPath: opts.configPath } }),
  );
  const opened = await openDocument(previous, opts.sources);
  reconcileDocuments(opened.doc.documents, loaded.documents);
  const out = sealDocument(opened, previousText, ctx.now());
  if (out === undefined) return undefined;
  return { text: out, format, recipients: opened.meta.keyGroups.flatMap(groupNames) };
}

/** The text and format of `path` when it exists and is a SOPS file, else undefined (a fresh encrypt is due). */
export async function existingEncrypted(
  path: string,
  format?: FileFormat,
): Promise<{ text: string; format: FileFormat } | undefined> {
  let text: string;
  try {
    text = await readText(path);
  } catch {
    return undefined;
  }
  try {
    const fmt = format ?? formatFromPath(path);
    return loadDocument(text, path, fmt).metadata === undefined ? undefined : { text, format: fmt };
  } catch {
    return undefined;
  }
}
