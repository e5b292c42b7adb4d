/**
 * `rotate`: a new data key for each file. Every value is decrypted (MAC verified) and
 * re-encrypted under the new key, which is wrapped for the environment's recipients (or, for a
 * file no environment owns, for the recipients it already has). The one operation where every
 * ciphertext changes, as it must: whoever held the old data key learns nothing new.
 */
import { writeFileAtomic } from '../fsx/atomic.js';
import { encryptDocuments, encryptMac } from '../format/cipher.js';
import { deleteMetadataField, formatLastModified, replaceKeyGroups, setMetadataField } from '../format/metadata.js';
import { CRYPT_RULE_FIELDS, DEFAULT_CRYPT_RULE, Selector } from '../format/selectors.js';
import { newDataKey, wrapDataKey, type KeySources } from '../keys/datakey.js';
import { mapBounded, DEFAULT_CONCURRENCY, type Outcome } from './bulk.js';
import type { OpsContext } from './context.js';
import { openDocument, type OpenedDocument } from '../document/document.js';
import { inFile, readText } from './read.js';
import type { EnvironmentConfig } from '../config/model.js';
import { groupNames, recipientsOf } from '../keys/recipients.js';
import { loadForWrite } from './authority.js';
import type { Target } from './targets.js';

export interface RotateResult {
  file: string;
  environment?: string;
  recipients: string[];
  unwrappedBy: string[];
}

export interface RotateOptions {
  sources: KeySources;
  concurrency?: number;
  /**
   * Re-encrypt under the environment's rule a file whose own rule is weaker (after the config's
   * rule was strengthened on purpose); without it such a file is refused.
   */
  adoptRule?: boolean;
}

/**
 * Gives an opened (decrypted) document a new data key in place: every value re-encrypted, the
 * key wrapped for the environment's recipients (or the file's own without an environment), the
 * environment's rule and `mac_only_encrypted` adopted, fresh `mac` and `lastmodified`.
 * @returns the recipients the new key is wrapped for.
 */
export async function rekeyDocument(
  opened: OpenedDocument,
  env: EnvironmentConfig | undefined,
  sources: KeySources,
  now: Date,
): Promise<string[]> {
  const groups = env?.groups ?? recipientsOf(opened.meta);
  const threshold = env !== undefined ? env.shamirThreshold : opened.meta.shamirThreshold;
  const metadata = opened.doc.metadata!;
  // An owned file gets the environment's rule, never its own: the sops block is not covered by
  // the MAC, so keeping it would keep whatever someone wrote there.
  const rule = env !== undefined ? (env.rule ?? DEFAULT_CRYPT_RULE) : opened.meta.rule;
  const selector = rule === undefined ? opened.selector : new Selector(rule);
  const macOnlyEncrypted = env !== undefined ? (env.macOnlyEncrypted ?? false) : opened.meta.macOnlyEncrypted;
  const dataKey = newDataKey();
  const wrapped = await wrapDataKey(dataKey, groups, threshold, sources);
  const macPlain = encryptDocuments(opened.doc.documents, dataKey, { selector, macOnlyEncrypted });
  const lastmodified = formatLastModified(now);
  replaceKeyGroups(metadata, wrapped, groups.length > 1 ? (threshold ?? groups.length) : undefined);
  const had = opened.meta.rule ?? DEFAULT_CRYPT_RULE;
  if (rule !== undefined && (had.field !== rule.field || had.value !== rule.value)) {
    for (const f of CRYPT_RULE_FIELDS) deleteMetadataField(metadata, f);
    setMetadataField(metadata, rule.field, rule.value);
  }
  if (macOnlyEncrypted !== opened.meta.macOnlyEncrypted) {
    if (macOnlyEncrypted) setMetadataField(metadata, 'mac_only_encrypted', true);
    else deleteMetadataField(metadata, 'mac_only_encrypted');
  }
  setMetadataField(metadata, 'lastmodified', lastmodified);
  setMetadataField(metadata, 'mac', encryptMac(dataKey, macPlain, lastmodified));
  return groups.flatMap(groupNames);
}

/**
 * Rotates one file's data key.
 * @throws WeakenedMetadataError (53) when the environment owns the file and its rule is weaker
 * (unless `adoptRule`); NoKeyError, MacMismatchError, …
 */
export async function rotateFile(target: Target, ctx: OpsContext, opts: RotateOptions): Promise<RotateResult> {
  const text = await readText(target.file);
  return inFile(target.file, async () => {
    const enc = await loadForWrite(text, target.file, ctx, {
      stanzas: 'replaced',
      adoptsRule: opts.adoptRule === true,
      owner: { environment: target.environment },
    });
    const opened = await openDocument(enc, opts.sources);
    const recipients = await rekeyDocument(opened, target.environment, opts.sources, ctx.now());
    await writeFileAtomic(target.file, opened.doc.serialize());
    const result: RotateResult = { file: target.file, recipients, unwrappedBy: opened.unwrappedBy };
    if (target.environment !== undefined) result.environment = target.environment.name;
    return result;
  });
}

/** {@link rotateFile} over many files with a bounded pool. */
export function rotate(
  targets: readonly Target[],
  ctx: OpsContext,
  opts: RotateOptions,
): Promise<Outcome<RotateResult>[]> {
  return mapBounded(targets, opts.concurrency ?? DEFAULT_CONCURRENCY, (t) => rotateFile(t, ctx, opts));
}
