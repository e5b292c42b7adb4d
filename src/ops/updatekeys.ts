/**
 * `updatekeys`: re-wrap each file's data key for the recipients its environment names now.
 * Only the `sops` block changes; values, `mac` and `lastmodified` stay as they are (as in
 * SOPS), and stanzas of recipients who stay are kept byte for byte.
 */
import { writeFileAtomic } from '../fsx/atomic.js';
import { ConfigError } from '../errors.js';
import { replaceKeyGroups } from '../format/metadata.js';
import { unwrapDataKey, wrapDataKey, type KeySources } from '../keys/datakey.js';
import { mapBounded, DEFAULT_CONCURRENCY, type Outcome } from './bulk.js';
import type { OpsContext } from './context.js';
import { inFile, readText } from './read.js';
import { diffRecipients } from '../document/recipients.js';
import { refuseUnsupportedKeys } from './encrypt.js';
import { loadForWrite } from './authority.js';
import type { Target } from './targets.js';

export interface UpdateKeysResult {
  file: string;
  environment: string;
  added: string[];
  removed: string[];
  changed: boolean;
  /** Which master key unwrapped the data key (absent when nothing changed). */
  unwrappedBy?: string[];
}

export interface UpdateKeysOptions {
  sources: KeySources;
  dryRun?: boolean;
  concurrency?: number;
}

/** Brings one file's key stanzas in line with its environment. */
export async function updateKeysFile(
  target: Target,
  ctx: OpsContext,
  opts: UpdateKeysOptions,
): Promise<UpdateKeysResult> {
  const env = target.environment;
  if (env === undefined) throw new ConfigError('no environment in the config owns this file', { file: target.file });
  refuseUnsupportedKeys(env);
  const text = await readText(target.file);
  return inFile(target.file, async () => {
    // Re-wrapping repairs recipients, not a weakened rule (the values stay as they are).
    const enc = await loadForWrite(text, target.file, ctx, { stanzas: 'replaced', owner: { environment: env } });
    const diff = diffRecipients(enc.meta, env.groups, env.shamirThreshold);
    const result: UpdateKeysResult = {
      file: target.file,
      environment: env.name,
      added: diff.added,
      removed: diff.removed,
      changed: diff.changed,
    };
    if (!diff.changed) return result;
    const { dataKey, unwrappedBy } = await unwrapDataKey(enc.meta, opts.sources);
    result.unwrappedBy = unwrappedBy;
    const reuse = enc.meta.keyGroups.length === 1 ? enc.meta.keyGroups[0] : undefined;
    const wrapped = await wrapDataKey(dataKey, env.groups, env.shamirThreshold, opts.sources, reuse);
    if (enc.meta.keyGroups.some((g) => g.other.length > 0) && env.groups.length > 1) {
      ctx.warn(
        `${target.file}: stanzas of key types sealant does not manage (${enc.meta.keyGroups.flatMap((g) => g.other.map((o) => o.type)).join(', ')}) cannot follow a new Shamir split and are dropped`,
      );
    }
    replaceKeyGroups(
      enc.doc.metadata!,
      wrapped,
      env.groups.length > 1 ? (env.shamirThreshold ?? env.groups.length) : undefined,
    );
    if (opts.dryRun !== true) await writeFileAtomic(target.file, enc.doc.serialize());
    return result;
  });
}

/** {@link updateKeysFile} over many files with a bounded pool; one failure does not stop the others. */
export function updateKeys(
  targets: readonly Target[],
  ctx: OpsContext,
  opts: UpdateKeysOptions,
): Promise<Outcome<UpdateKeysResult>[]> {
  return mapBounded(targets, opts.concurrency ?? DEFAULT_CONCURRENCY, (t) => updateKeysFile(t, ctx, opts));
}
