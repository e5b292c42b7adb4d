/**
 * `sealant plan`: gathers what the planner needs — each file's bytes and recipients, its git
 * history, the generators its schema declares — and builds the {@link Plan}. Reads files, git
 * and the clock; writes nothing (the command writes `--out`).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ReadError } from '../errors.js';
import type { ProjectConfig } from '../config/model.js';
import { parseTreePath } from '../format/paths.js';
import { exposure, fileHistory } from '../history/index.js';
import type { KeySources } from '../keys/datakey.js';
import { buildPlan, type FileFacts, type GenerateSpec, type Plan } from '../plan/index.js';
import { SchemaSet } from '../schema/ajv.js';
import { generatorFor } from '../schema/generate.js';
import type { OpsContext } from './context.js';
import { asEncrypted, inFile, loadDocument } from './document.js';
import { parseAgeRecipient } from '../keys/age.js';
import { diffRecipients, groupNames } from './recipients.js';
import { resolveTargets, type Target } from './targets.js';
import { compiledSchemaFor } from './validate.js';

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

async function readBytes(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch {
    throw new ReadError('cannot read file', { file });
  }
}

async function generators(ctx: OpsContext, config: ProjectConfig, t: Target, paths: readonly string[], schemas: SchemaSet): Promise<Map<string, GenerateSpec>> {
  const out = new Map<string, GenerateSpec>();
  const validate = await compiledSchemaFor(config, t.environment!, ctx.cwd, t.file, schemas);
  if (validate === undefined) return out;
  for (const p of paths) {
    const g = generatorFor(validate.schema, parseTreePath(p));
    if (g !== undefined) out.set(p, g);
  }
  return out;
}

async function factsOf(ctx: OpsContext, config: ProjectConfig, t: Target, opts: PlanOptions, schemas: SchemaSet): Promise<FileFacts> {
  const env = t.environment!;
  const bytes = await readBytes(resolve(ctx.cwd, t.file));
  return inFile(t.file, async () => {
    const enc = asEncrypted(loadDocument(bytes.toString('utf8'), t.file));
    const history = await fileHistory(ctx.cwd, t.file, opts.sources === undefined ? {} : { sources: opts.sources });
    return {
      file: t.file,
      digest: digestOf(bytes),
      environment: env,
      recipients: enc.meta.keyGroups.flatMap(groupNames),
      wanted: env.groups.flatMap(groupNames),
      keyDiff: diffRecipients(enc.meta, env.groups, env.shamirThreshold),
      history,
      generate: await generators(ctx, config, t, history.values.map((v) => v.path), schemas),
    };
  });
}

/** An offboarded age recipient is checked like one in a config; other names are taken as given. */
function parseOffboard(r: string): string {
  return r.startsWith('age1') ? parseAgeRecipient(r) : r;
}

/**
 * Builds the rotation plan for every file of the project (or of `--env`).
 * @throws ConfigError (no config, unknown environment, a file no environment owns),
 * KeyFormatError (a malformed `--offboard age1…`), ReadError, NotSopsFileError, GitError (not
 * a git work tree), SchemaConfigError (a schema that does not compile).
 */
export async function planRotation(ctx: OpsContext, opts: PlanOptions = {}): Promise<Plan> {
  const offboard = (opts.offboard ?? []).map(parseOffboard);
  const { config, targets } = await resolveTargets(ctx, { ...(opts.env === undefined ? {} : { env: opts.env }), ...(opts.configPath === undefined ? {} : { configPath: opts.configPath }), requireEnvironment: true });
  const schemas = new SchemaSet();
  const files: FileFacts[] = [];
  for (const t of targets) files.push(await factsOf(ctx, config!, t, opts, schemas));
  return buildPlan({ files, now: ctx.now(), offboard, exposure, ...(opts.env === undefined ? {} : { environment: opts.env }) });
}
