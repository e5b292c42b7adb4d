/**
 * Who decides how a file is protected when something writes it. For a file the project config
 * owns, the config does: a write path refuses when the file's `sops` block is weaker than its
 * environment ({@link authorityFindings}). For any other file the file's own metadata decides,
 * as in SOPS, and a change of its encryption rule since the last commit is pointed out.
 */
import { relative, resolve } from 'node:path';
import {
  authorityFindings,
  ruleText,
  sameProtection,
  weakerProtection,
  type AuthorityFinding,
  type Protection,
} from '../checks/authority.js';
import { environmentFor, loadProjectConfig } from '../config/index.js';
import type { EnvironmentConfig } from '../config/model.js';
import { WeakenedMetadataError } from '../errors.js';
import type { SopsMetadata } from '../format/metadata.js';
import { committedFile } from '../git/staged.js';
import { formatFromPath, sopsBlockOf } from '../stores/index.js';
import type { FileFormat } from '../stores/store.js';
import type { OpsContext } from './context.js';
import { asEncrypted, loadDocument, type EncryptedDocument } from '../document/document.js';

/**
 * The environment that owns `file` (relative to `ctx.cwd`), from the config found from there
 * (or `configPath`). A `.sops.yaml` creation rule without `path_regex` counts: it is the rule
 * `sops updatekeys` would apply.
 * @returns undefined without a config, or when no environment matches.
 * @throws ConfigError for an invalid config, or a file two environments claim.
 */
async function owningEnvironment(
  file: string,
  ctx: OpsContext,
  configPath?: string,
): Promise<EnvironmentConfig | undefined> {
  const config = await loadProjectConfig({
    cwd: ctx.cwd,
    env: ctx.env,
    ...(configPath === undefined ? {} : { path: configPath }),
  });
  return config === undefined ? undefined : environmentFor(config, file, ctx.cwd);
}

/** What a write does with the file's key stanzas. */
export interface WriteIntent {
  /**
   * `replaced`: the data key is wrapped anew for the environment's recipients only (`updatekeys`,
   * `rotate`, a re-wrapping `apply`), which repairs added recipients and a lower threshold;
   * `kept`: the stanzas stay as they are (`set`, `edit`, `encrypt --output`, merges).
   */
  stanzas: 'kept' | 'replaced';
  /** The write re-encrypts under the environment's rule (`rotate --adopt-rule`). */
  adoptsRule?: boolean;
  /** The file's format, to read its HEAD version (default: from its name). */
  format?: FileFormat;
  /** Which environment owns the file, or where to find it. */
  owner: WriteOwner;
}

/**
 * Where the environment that owns a written file comes from: the config at `configPath`
 * (`--config`; default: the one found from `ctx.cwd`), or `environment` when the caller already
 * resolved it from the config it works with (bulk targets; a plan's config as apply leaves it).
 */
export type WriteOwner = { configPath?: string | undefined } | { environment: EnvironmentConfig | undefined };

/**
 * Loads the SOPS file `text` (the content of, or bound for, `file`) for a write, and lets the
 * write go ahead or refuses it ({@link checkWrite}): the one way a write path opens a file it
 * keeps the `sops` block of.
 * @throws NotSopsFileError, ParseError; WeakenedMetadataError (exit 53).
 */
export async function loadForWrite(
  text: string | Uint8Array,
  file: string,
  ctx: OpsContext,
  intent: WriteIntent,
): Promise<EncryptedDocument> {
  const enc = asEncrypted(loadDocument(text, file, intent.format));
  await checkWrite(file, enc.meta, ctx, intent);
  return enc;
}

/**
 * Lets a write of `file` (metadata `meta`) go ahead, or refuses it.
 *
 * Owned by an environment (`intent.owner`): refuses when the `sops` block is weaker than the environment, except for what
 * this write repairs. Not owned: warns through `ctx.warn` when the rule or `mac_only_encrypted`
 * differs from the file's version in the last commit (nothing outside a git repository).
 * @throws WeakenedMetadataError (exit 53) naming the first field at fault.
 */
async function checkWrite(file: string, meta: SopsMetadata, ctx: OpsContext, intent: WriteIntent): Promise<void> {
  const env =
    'environment' in intent.owner
      ? intent.owner.environment
      : await owningEnvironment(file, ctx, intent.owner.configPath);
  if (env === undefined) {
    await warnChangedSinceCommit(file, meta, ctx, intent.format);
    return;
  }
  const findings = authorityFindings(meta, env).filter((f) =>
    f.kind === 'weaker-rule' ? intent.adoptsRule !== true : intent.stanzas === 'kept',
  );
  const first = findings[0];
  if (first === undefined) return;
  const more = findings.length > 1 ? ` (and ${findings.length - 1} more)` : '';
  throw new WeakenedMetadataError(`refusing to write: ${first.message}${more}`, { file, hint: hintFor(first, file) });
}

function hintFor(f: AuthorityFinding, file: string): string {
  if (f.kind === 'weaker-rule') {
    return `the sops block does not match the config: if it was edited by hand, restore it (git checkout -- ${file}); if the config's rule changed on purpose, run \`sealant rotate --adopt-rule ${file}\``;
  }
  return `run \`sealant updatekeys ${file}\` to wrap the data key only for the configured recipients (then \`sealant rotate\`, as the extra key may hold it), or add the recipient to the config`;
}

/**
 * The rule and `mac_only_encrypted` of the last committed version of `file`, if it has a `sops`
 * block; `{ notUtf8 }` when that version is text that is not UTF-8 (never read with U+FFFD in
 * place of its bad bytes: that would be another file's rule).
 */
async function committedMetadata(
  abs: string,
  ctx: OpsContext,
  format: FileFormat,
): Promise<SopsMetadata | { notUtf8: string } | undefined> {
  const bytes = await committedFile(abs, ctx.env);
  if (bytes === undefined) return undefined;
  // A committed version that does not load, or whose block is malformed, says nothing about the rule.
  const block = sopsBlockOf(bytes, format);
  if (block?.kind === 'not-utf8') return { notUtf8: block.message };
  return block?.kind === 'sops' ? block.meta : undefined;
}

async function warnChangedSinceCommit(
  file: string,
  meta: SopsMetadata,
  ctx: OpsContext,
  format: FileFormat | undefined,
): Promise<void> {
  const abs = resolve(ctx.cwd, file);
  const before = await committedMetadata(abs, ctx, format ?? formatFromPath(abs));
  if (before === undefined) return;
  if ('notUtf8' in before) {
    ctx.warn(
      `${relative(ctx.cwd, abs) || file}: the last committed version is ${before.notUtf8}: its encryption settings cannot be compared with these`,
    );
    return;
  }
  const now = { rule: meta.rule, macOnlyEncrypted: meta.macOnlyEncrypted };
  const then = { rule: before.rule, macOnlyEncrypted: before.macOnlyEncrypted };
  if (sameProtection(now, then)) return;
  ctx.warn(`${relative(ctx.cwd, abs) || file}: ${changedMessage(now, then)}`);
}

/** The warning for a file no config owns whose rule changed since `then` (shared with `guard`). */
export function changedMessage(now: Protection, then: Protection): string {
  const weaker = weakerProtection(now, then, 'the last commit');
  const what = `${ruleText(then.rule)}${then.macOnlyEncrypted === true ? ', mac_only_encrypted' : ''} → ${ruleText(now.rule)}${now.macOnlyEncrypted === true ? ', mac_only_encrypted' : ''}`;
  return `the encryption settings in the sops block changed since the last commit (${what})${weaker.length > 0 ? '; values may now stay in clear or outside the MAC: check who changed them' : ''}`;
}
