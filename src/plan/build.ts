/**
 * Building a {@link Plan} from facts gathered elsewhere: each file's current recipients, its
 * environment's config, its git history and the clock. Pure: the caller reads files, git and
 * schemas and passes the results in.
 */
import type { EnvironmentConfig } from '../config/model.js';
import { formatDuration } from '../config/duration.js';
import { compileGlob } from '../util/glob.js';
import type { FileHistory, ValueAge } from '../history/index.js';
import type { KeyDiff } from '../document/recipients.js';
import { expectedDiff } from './render.js';
import type {
  Exposure,
  GenerateSpec,
  Plan,
  PlanAction,
  PlanConfigEdit,
  PlanFile,
  PlanSummary,
  PlanValue,
} from './model.js';

/** What the planner knows about one file. */
export interface FileFacts {
  file: string;
  digest: string;
  environment: EnvironmentConfig;
  /** Names of the recipients in the file now and in the config (see `groupNames`). */
  recipients: string[];
  wanted: string[];
  keyDiff: KeyDiff;
  history: FileHistory;
  /** Generators from the schema, by dotted key path. */
  generate: ReadonlyMap<string, GenerateSpec>;
  /**
   * Key paths the schema marks `x-sealant-secret`; undefined when the schema marks none (or
   * there is no schema), and then every value counts as a secret.
   */
  secrets?: ReadonlySet<string>;
}

/** Who could read what: `exposure()` of the history module, injected to keep this module pure. */
export type ExposureFn = (
  history: FileHistory,
  recipient: string,
) => { readable: boolean; since?: Date; keys: string[]; currentKeyExposed: boolean };

export interface BuildPlanInput {
  /** Facts as they will be once `config` is applied (offboarded recipients no longer wanted). */
  files: readonly FileFacts[];
  config?: PlanConfigEdit;
  now: Date;
  offboard: readonly string[];
  exposure: ExposureFn;
  environment?: string;
}

const DAY = 86_400_000;

/** The policy for a key: the first matching `policies` entry, then the environment's own. */
function policyFor(env: EnvironmentConfig, path: string): { rotateEvery?: number; owner?: string } {
  const hit = (env.policies ?? []).find((p) => p.keys.some((g) => compileGlob(g).test(path)));
  const rotateEvery = hit?.rotateEvery ?? env.rotateEvery;
  const owner = hit?.owner ?? env.owner;
  return { ...(rotateEvery === undefined ? {} : { rotateEvery }), ...(owner === undefined ? {} : { owner }) };
}

function ageReason(v: ValueAge, now: Date, rotateEvery: number | undefined): string | undefined {
  if (rotateEvery === undefined || v.lastChanged === undefined) return undefined;
  const age = now.getTime() - v.lastChanged.date.getTime();
  return age > rotateEvery ? `age ${formatDuration(age)} > ${formatDuration(rotateEvery)}` : undefined;
}

function planValue(f: FileFacts, v: ValueAge, now: Date, reasons: string[]): PlanValue | undefined {
  const policy = policyFor(f.environment, v.path);
  const age = ageReason(v, now, policy.rotateEvery);
  const all = [...(age === undefined ? [] : [age]), ...reasons];
  if (all.length === 0) return undefined;
  const generate = f.generate.get(v.path);
  const out: PlanValue = { path: v.path, reason: all.join('; '), needsInput: generate === undefined };
  if (policy.owner !== undefined) out.owner = policy.owner;
  if (generate !== undefined) out.generate = generate;
  if (v.lastChanged !== undefined) out.ageDays = Math.floor((now.getTime() - v.lastChanged.date.getTime()) / DAY);
  return out;
}

/** Offboarded recipients who could read the file, with the keys each could read. */
function exposures(f: FileFacts, input: BuildPlanInput): Exposure[] {
  const out: Exposure[] = [];
  for (const r of input.offboard) {
    const e = input.exposure(f.history, r);
    if (!e.readable) continue;
    const x: Exposure = {
      recipient: r,
      environment: f.environment.name,
      file: f.file,
      keys: e.keys,
      currentKeyExposed: e.currentKeyExposed,
    };
    if (e.since !== undefined) x.since = e.since.toISOString();
    out.push(x);
  }
  return out;
}

/** Why the file's data key must change, if it must. */
function dataKeyReasons(f: FileFacts, input: BuildPlanInput, exposed: Exposure[]): string[] {
  const reasons: string[] = [];
  const era = f.history.eras.at(-1);
  const wanted = new Set(f.wanted);
  const gone = new Set([...f.keyDiff.removed, ...(era?.recipients ?? []).filter((r) => !wanted.has(r))]);
  if (gone.size > 0) reasons.push(`data key known to removed recipient(s): ${[...gone].join(', ')}`);
  for (const e of exposed)
    if (e.currentKeyExposed && !gone.has(e.recipient)) reasons.push(`data key known to offboarded ${e.recipient}`);
  const maxAge = f.environment.dataKeyMaxAge;
  if (maxAge !== undefined && era !== undefined && input.now.getTime() - era.since.date.getTime() > maxAge) {
    reasons.push(
      `data key age ${formatDuration(input.now.getTime() - era.since.date.getTime())} > ${formatDuration(maxAge)}`,
    );
  }
  return reasons;
}

/**
 * Whether the value at HEAD is one the recipient could read: it was under a data key the
 * recipient held, and has not changed since that key was replaced.
 */
function stillExposed(f: FileFacts, e: Exposure, v: ValueAge): boolean {
  if (!e.keys.includes(v.path)) return false;
  const eras = f.history.eras;
  let last = -1;
  eras.forEach((era, i) => {
    if (era.recipients.includes(e.recipient)) last = i;
  });
  const next = eras[last + 1];
  if (last === -1 || next === undefined) return true;
  return v.lastChanged === undefined || v.lastChanged.date.getTime() < next.since.date.getTime();
}

function planFile(f: FileFacts, input: BuildPlanInput, exposed: Exposure[]): PlanFile | undefined {
  const reasons: string[] = [];
  if (f.keyDiff.changed) reasons.push('recipients differ from the config');
  const dk = dataKeyReasons(f, input, exposed);
  reasons.push(...dk);
  const encrypted = f.history.eras.at(-1)?.keys;
  // Offboarding replaces secrets, not configuration such as `db.host` that merely sat encrypted.
  const secret = (path: string) => f.secrets === undefined || f.secrets.has(path);
  const values = f.history.values
    .filter((v) => encrypted === undefined || encrypted.includes(v.path))
    .map((v) =>
      planValue(
        f,
        v,
        input.now,
        secret(v.path)
          ? exposed.filter((e) => stillExposed(f, e, v)).map((e) => `readable by offboarded ${e.recipient}`)
          : [],
      ),
    )
    .filter((v) => v !== undefined);
  const actions: PlanAction[] = [];
  if (f.keyDiff.changed || dk.length > 0) actions.push('rewrap');
  if (dk.length > 0) actions.push('rotate-data-key');
  if (values.length > 0) {
    actions.push('rotate-values');
    reasons.push(`${values.length} value(s) due`);
  }
  if (actions.length === 0) return undefined;
  const out: PlanFile = {
    file: f.file,
    environment: f.environment.name,
    digest: f.digest,
    actions,
    reasons,
    addRecipients: f.keyDiff.added,
    removeRecipients: f.keyDiff.removed,
    values,
  };
  out.expectedDiff = expectedDiff(out, f.recipients, f.wanted, f.history.values);
  return out;
}

/** Counts per action, overall and per environment. */
export function summarize(files: readonly PlanFile[]): PlanSummary {
  const s: PlanSummary = {
    files: files.length,
    rewrap: 0,
    rotateDataKey: 0,
    rotateValues: 0,
    values: 0,
    byEnvironment: {},
  };
  for (const f of files) {
    const e = (s.byEnvironment[f.environment] ??= { rewrap: 0, rotateDataKey: 0, rotateValues: 0, values: 0 });
    for (const t of [s, e]) {
      if (f.actions.includes('rewrap')) t.rewrap++;
      if (f.actions.includes('rotate-data-key')) t.rotateDataKey++;
      if (f.actions.includes('rotate-values')) t.rotateValues++;
      t.values += f.values.length;
    }
  }
  return s;
}

/** A revision left out may have wrapped the data key for someone: the plan cannot vouch for it. */
function historyWarnings(f: FileFacts): string[] {
  return f.history.skipped.map(
    (r) =>
      `${f.file}: revision ${r.commit.slice(0, 12)} left out of the history (${r.reason}): what it exposed is not counted`,
  );
}

/**
 * Builds the plan. Rewrap when a file's recipients, groups or threshold differ from its
 * environment; rotate the data key (with the rewrap) when a recipient of the current data key
 * is no longer configured, an offboarded recipient holds it, or it is older than
 * `data_key_max_age`; rotate values older than their `rotate_every`, and secrets readable by
 * an offboarded recipient. Nothing else: an empty plan means the repository is compliant.
 * Never throws.
 */
export function buildPlan(input: BuildPlanInput): Plan {
  const files: PlanFile[] = [];
  const offboarding: Exposure[] = [];
  for (const f of input.files) {
    const exposed = exposures(f, input);
    offboarding.push(...exposed);
    const p = planFile(f, input, exposed);
    if (p !== undefined) files.push(p);
  }
  const plan: Plan = {
    version: 1,
    createdAt: input.now.toISOString(),
    files,
    warnings: input.files.flatMap(historyWarnings),
    summary: summarize(files),
  };
  if (input.config !== undefined) plan.config = input.config;
  if (input.environment !== undefined) plan.environment = input.environment;
  if (input.offboard.length > 0) plan.offboarding = offboarding;
  return plan;
}
