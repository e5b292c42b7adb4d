/**
 * `recipients add` / `recipients remove`: find the `.sealant.yaml`, edit its text with
 * config/edit.ts, and write it back atomically (not at all when nothing changed).
 */
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { findConfig } from '../config/index.js';
import { ConfigError, ReadError } from '../errors.js';
import { addRecipientText, removeRecipientText, type RecipientChange } from '../config/edit.js';
import { SEALANT_CONFIG_FILE } from '../config/model.js';
import { parseRecipient, recipientLabel } from '../config/recipients.js';
import { writeFileAtomic } from '../fsx/atomic.js';
import { decodeUtf8 } from '../util/utf8.js';

/** Options of {@link addRecipient} and {@link removeRecipient}. */
export interface EditOptions {
  /** 1-based key group (required when the environment uses `key_groups`). */
  group?: number;
  /** The config file as shown in messages (default: its path). */
  shown?: string;
}

async function edit(
  kind: 'add' | 'remove',
  configPath: string,
  envName: string,
  recipientText: string,
  opts: EditOptions,
): Promise<RecipientChange> {
  const shown = opts.shown ?? configPath;
  const recipient = parseRecipient(recipientText);
  let bytes: Buffer;
  try {
    bytes = await readFile(configPath);
  } catch (e) {
    throw new ReadError('cannot read config file', { file: shown, cause: e });
  }
  // Rewritten below: a lenient decode would write U+FFFD in place of every bad byte.
  const text = decodeUtf8(bytes, shown);
  const f = kind === 'add' ? addRecipientText : removeRecipientText;
  const r = f(text, configPath, envName, recipient, opts.group, shown);
  if (r.changed) await writeFileAtomic(configPath, r.text);
  return {
    config: shown,
    environment: envName,
    ...(r.group === undefined ? {} : { group: r.group }),
    type: recipient.type,
    recipient: recipientLabel(recipient),
    changed: r.changed,
  };
}

/**
 * Adds a recipient (`age1…`, a KMS key ARN with optional `+ROLE_ARN`, or a PGP fingerprint) to
 * an environment of the `.sealant.yaml` at `configPath`, writing the file atomically (and not
 * at all when the recipient is already there).
 * @throws KeyFormatError for a malformed recipient; ReadError/WriteError; the errors of
 * {@link addRecipientText}.
 */
export function addRecipient(
  configPath: string,
  envName: string,
  recipient: string,
  opts: EditOptions = {},
): Promise<RecipientChange> {
  return edit('add', configPath, envName, recipient, opts);
}

/**
 * Removes a recipient from an environment of the `.sealant.yaml` at `configPath` (atomically;
 * nothing is written when it was not a recipient).
 * @throws KeyFormatError for a malformed recipient; ReadError/WriteError; the errors of
 * {@link removeRecipientText}.
 */
export function removeRecipient(
  configPath: string,
  envName: string,
  recipient: string,
  opts: EditOptions = {},
): Promise<RecipientChange> {
  return edit('remove', configPath, envName, recipient, opts);
}

/**
 * The `.sealant.yaml` that recipient commands edit: `override` (`--config`) or the one found
 * from `cwd` upwards.
 * @returns its absolute path and the name to show.
 * @throws ConfigError when there is none, or when the project is configured by `.sops.yaml`
 * (recipients are edited in `.sealant.yaml` only; `sealant config import` makes one).
 */
export async function editableConfig(
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
  override?: string,
): Promise<{ path: string; shown: string }> {
  const found = await findConfig(cwd, env, override);
  if (found === undefined)
    throw new ConfigError(`no ${SEALANT_CONFIG_FILE} found from this directory upwards`, {
      hint: 'create one (see docs/config.md) or pass --config FILE',
    });
  const shown = relative(cwd, found.path) || found.path;
  if (found.kind !== 'sealant')
    throw new ConfigError(
      `recipients are edited in ${SEALANT_CONFIG_FILE}; this project is configured by a .sops.yaml`,
      { file: shown, hint: 'run `sealant config import` to create a .sealant.yaml from it' },
    );
  return { path: found.path, shown };
}
