/**
 * `sealant plan`: gathers what the planner needs — each file's bytes and recipients, its git
 * history, the generators its schema declares — and builds the {@link Plan}. Reads files, git
 * and the clock; writes nothing (the command writes `--out`).
 */
import { createHash } from 'node:crypto';
import { relative, resolve } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { ConfigError } from '../errors.js';
import { writeFileAtomic } from '../fsx/atomic.js';
import { removeRecipientText } from '../config/edit.js';
import type { ProjectConfig } from '../config/model.js';
import { parseRecipient, type Recipient } from '../config/recipients.js';
import { parseSealantConfig } from '../config/sealant-config.js';
import { parseTreePath } from '../format/paths.js';
import { exposure, fileHistory } from '../history/index.js';
import type { KeySources } from '../keys/datakey.js';
import {
  buildPlan,
  type FileFacts,
  type GenerateSpec,
  type Plan,
  type PlanConfigEdit,
  type RecipientRemoval,
  renderHuman,
  renderMarkdown,
} from '../plan/index.js';
import { SchemaSet } from '../schema/ajv.js';
import { generatorFor, isSecretPath, marksSecrets } from '../schema/generate.js';
import type { OpsContext } from './context.js';
import { asEncrypted, loadDocument } from '../document/document.js';
import { inFile, readBytes } from './read.js';
import { parseAgeRecipient } from '../keys/age.js';
import { diffRecipients } from '../document/recipients.js';
import { groupNames } from '../keys/recipients.js';
import { resolveTargets, type Target } from './targets.js';
import { compiledSchemaFor } from './validate.js';
import { decodeUtf8 } from '../util/utf8.js';

export interface PlanOptions {
  env?: string;
  configPath?: string;
  /** Recipients being offboarded (`age1…`, a KMS ARN name, `pgp:FPR`). */
  offboard?: readonly string[];
  /** Lets the history decrypt across rotations (exact ages); keyless without. */
  sources?: KeySources;
}

/** sha256 (hex) of a file's bytes: the plan's guard against files changed before `apply`. */
export function digestOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** What the file's schema says about its key paths: generators, and which values are secrets. */
async function schemaFacts(
  ctx: OpsContext,
  config: ProjectConfig,
  t: Target,
  paths: readonly string[],
  schemas: SchemaSet,
): Promise<Pick<FileFacts, 'generate' | 'secrets'>> {
  const generate = new Map<string, GenerateSpec>();
  const validate = await compiledSchemaFor(config, t.environment!, ctx.cwd, t.file, schemas);
  if (validate === undefined) return { generate };
  for (const p of paths) {
    const g = generatorFor(validate.schema, parseTreePath(p));
    if (g !== undefined) generate.set(p, g);
  }
  if (!marksSecrets(validate.schema)) return { generate };
  return { generate, secrets: new Set(paths.filter((p) => isSecretPath(validate.schema, parseTreePath(p)))) };
}

async function factsOf(
  ctx: OpsContext,
  config: ProjectConfig,
  t: Target,
  opts: PlanOptions,
  schemas: SchemaSet,
): Promise<FileFacts> {
  const env = t.environment!;
  const bytes = await readBytes(resolve(ctx.cwd, t.file));
  return inFile(t.file, async () => {
    const enc = asEncrypted(loadDocument(bytes, t.file));
    const history = await fileHistory(ctx.cwd, t.file, opts.sources === undefined ? {} : { sources: opts.sources });
    return {
      file: t.file,
      digest: digestOf(bytes),
      environment: env,
      recipients: enc.meta.keyGroups.flatMap(groupNames),
      wanted: env.groups.flatMap(groupNames),
      keyDiff: diffRecipients(enc.meta, env.groups, env.shamirThreshold),
      history,
      ...(await schemaFacts(
        ctx,
        config,
        t,
        history.values.map((v) => v.path),
        schemas,
      )),
    };
  });
}

/** An offboarded age recipient is checked like one in a config; other names are taken as given. */
function parseOffboard(r: string): string {
  return r.startsWith('age1') ? parseAgeRecipient(r) : r;
}

/** The recipient behind a name as `groupNames` shows it (`pgp:FPR` is a fingerprint). */
function recipientNamed(name: string, environment: string, shown: string): Recipient {
  try {
    return parseRecipient(name.startsWith('pgp:') ? name.slice(4) : name);
  } catch {
    throw new ConfigError(
      `${name} is offboarded but environment "${environment}" still lists it, in a form sealant cannot remove for you`,
      { file: shown, hint: 'remove it from the config by hand, then plan again' },
    );
  }
}

/** Unified diff of a config edit, as the plan shows it and apply checks it. */
export function configDiff(shown: string, before: string, after: string): string {
  return createTwoFilesPatch(`a/${shown}`, `b/${shown}`, before, after, undefined, undefined, { context: 3 });
}

/**
 * The config text with `removals` made through the recipient-edit code, parsed. Each removal
 * must take exactly its recipient away (a KMS ARN given without a role would take every role).
 * @throws ConfigError when a removal would leave a group without recipients, or removes more
 * (or other) recipients than asked.
 */
export function removeOffboarded(
  text: string,
  path: string,
  shown: string,
  removals: readonly RecipientRemoval[],
): { text: string; config: ProjectConfig } {
  let out = text;
  for (const r of removals)
    out = removeRecipientText(
      out,
      path,
      r.environment,
      recipientNamed(r.recipient, r.environment, shown),
      r.group ?? 1,
      shown,
    ).text;
  const before = parseSealantConfig(text, path, shown);
  const config = parseSealantConfig(out, path, shown);
  for (const env of before.environments) {
    const now = new Set(config.environments.find((e) => e.name === env.name)?.groups.flatMap(groupNames));
    const gone = env.groups.flatMap(groupNames).filter((n) => !now.has(n));
    const asked = removals.filter((r) => r.environment === env.name).map((r) => r.recipient);
    if (gone.some((n) => !asked.includes(n)))
      throw new ConfigError(
        `removing the offboarded recipient(s) from environment "${env.name}" would remove others too`,
        { file: shown, hint: 'remove it from the config by hand, then plan again' },
      );
  }
  return { text: out, config };
}

/**
 * The plan's config edit: every environment being planned that still lists an offboarded
 * recipient loses it, so the rewrap the plan makes does not hand it the new data key.
 * @returns undefined when no such environment lists one.
 * @throws ConfigError when the project is configured by a `.sops.yaml` (sealant edits only
 * `.sealant.yaml`), or for what {@link removeOffboarded} refuses (the last recipient of a group).
 */
async function offboardingEdit(
  ctx: OpsContext,
  config: ProjectConfig,
  environments: ReadonlySet<string>,
  offboard: readonly string[],
): Promise<{ edit: PlanConfigEdit; config: ProjectConfig } | undefined> {
  const removals: RecipientRemoval[] = [];
  for (const env of config.environments) {
    if (!environments.has(env.name)) continue;
    env.groups.forEach((g, i) => {
      for (const r of offboard)
        if (groupNames(g).includes(r))
          removals.push({ environment: env.name, recipient: r, ...(env.groups.length > 1 ? { group: i + 1 } : {}) });
    });
  }
  if (removals.length === 0) return undefined;
  const shown = relative(ctx.cwd, config.path) || config.path;
  if (config.kind !== 'sealant') {
    const r = removals[0]!;
    throw new ConfigError(
      `${r.recipient} is offboarded but is still a recipient of "${r.environment}" in ${shown}; sealant edits recipients only in .sealant.yaml`,
      { file: shown, hint: 'remove it from .sops.yaml (or run `sealant config import`), then plan again' },
    );
  }
  const bytes = await readBytes(config.path);
  const before = decodeUtf8(bytes, shown);
  const edited = removeOffboarded(before, config.path, shown, removals);
  return {
    edit: {
      file: shown,
      digest: digestOf(bytes),
      removeRecipients: removals,
      expectedDiff: configDiff(shown, before, edited.text),
    },
    config: edited.config,
  };
}

/**
 * Builds the rotation plan for every file of the project (or of `--env`).
 * @throws ConfigError (no config, unknown environment, a file no environment owns),
 * KeyFormatError (a malformed `--offboard age1…`), ReadError, NotSopsFileError, GitError (not
 * a git work tree), SchemaConfigError (a schema that does not compile).
 */
export async function planRotation(ctx: OpsContext, opts: PlanOptions = {}): Promise<Plan> {
  const offboard = (opts.offboard ?? []).map(parseOffboard);
  const { config, targets } = await resolveTargets(ctx, {
    ...(opts.env === undefined ? {} : { env: opts.env }),
    ...(opts.configPath === undefined ? {} : { configPath: opts.configPath }),
    requireEnvironment: true,
  });
  const planned = new Set(opts.env === undefined ? config!.environments.map((e) => e.name) : [opts.env]);
  const edited = await offboardingEdit(ctx, config!, planned, offboard);
  // Every file is planned against the config as it will be once the offboarded are removed.
  const effective = edited?.config ?? config!;
  const schemas = new SchemaSet();
  const files: FileFacts[] = [];
  for (const t of targets)
    files.push(
      await factsOf(
        ctx,
        effective,
        { ...t, environment: effective.environments.find((e) => e.name === t.environment!.name)! },
        opts,
        schemas,
      ),
    );
  return buildPlan({
    files,
    now: ctx.now(),
    offboard,
    exposure,
    ...(edited === undefined ? {} : { config: edited.edit }),
    ...(opts.env === undefined ? {} : { environment: opts.env }),
  });
}

/** The plan file `sealant apply` reads: the plan as JSON. */
export function planFileText(plan: Plan): string {
  return `${JSON.stringify(plan, null, 2)}\n`;
}

/** Writes {@link planFileText} to `path` atomically, refusing a symlink there. @throws WriteError */
export async function writePlanFile(path: string, json: string): Promise<void> {
  await writeFileAtomic(path, json, { noFollow: true });
}

/** The plan as people read it (`human`) or as Markdown for a pull request or job summary. */
export function planReport(plan: Plan, format: 'human' | 'markdown'): string {
  return format === 'markdown' ? renderMarkdown(plan) : renderHuman(plan);
}
