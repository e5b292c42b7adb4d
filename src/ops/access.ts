/**
 * `access`: who can decrypt which environment (environment × recipient, from the config), and
 * drift — files whose stanzas differ from what their environment names. Needs no key: only
 * the clear `sops` metadata of each file is read.
 */
import { relative } from 'node:path';
import { ConfigError, SealantError } from '../errors.js';
import { filesOf } from './config-files.js';
import { loadProjectConfig } from '../config/index.js';
import { mapBounded, DEFAULT_CONCURRENCY } from './bulk.js';
import type { OpsContext } from './context.js';
import { asEncrypted, loadDocument } from '../document/document.js';
import { readBytes } from './read.js';
import { diffRecipients } from '../document/recipients.js';
import { groupNames } from '../keys/recipients.js';

export interface AccessReport {
  config: string;
  environments: { name: string; files: number; recipients: string[]; shamirThreshold?: number }[];
  /** One row per recipient: the environments it can decrypt. */
  matrix: { recipient: string; environments: string[] }[];
  /** Files that differ from their environment (empty when everything is in line). */
  drift: { file: string; environment: string; missing: string[]; extra: string[]; problem?: string }[];
}

/**
 * Builds the access matrix and drift report for the project config found from `ctx.cwd`.
 * @throws ConfigError when there is no config.
 */
export async function accessReport(
  ctx: OpsContext,
  opts: { configPath?: string; env?: string; concurrency?: number } = {},
): Promise<AccessReport> {
  const config = await loadProjectConfig({
    cwd: ctx.cwd,
    env: ctx.env,
    ...(opts.configPath === undefined ? {} : { path: opts.configPath }),
  });
  if (config === undefined)
    throw new ConfigError('no .sealant.yaml or .sops.yaml found', { hint: 'see docs/config.md' });
  const envs = config.environments.filter((e) => opts.env === undefined || e.name === opts.env);
  if (opts.env !== undefined && envs.length === 0)
    throw new ConfigError(`unknown environment "${opts.env}"`, { file: config.path });
  const report: AccessReport = {
    config: relative(ctx.cwd, config.path) || config.path,
    environments: [],
    matrix: [],
    drift: [],
  };
  const byRecipient = new Map<string, string[]>();
  for (const env of envs) {
    const recipients = env.groups.flatMap(groupNames);
    for (const r of recipients) byRecipient.set(r, [...(byRecipient.get(r) ?? []), env.name]);
    const files = await filesOf(config, env);
    const row: AccessReport['environments'][number] = { name: env.name, files: files.length, recipients };
    if (env.groups.length > 1) row.shamirThreshold = env.shamirThreshold ?? env.groups.length;
    report.environments.push(row);
    const checks = await mapBounded(files, opts.concurrency ?? DEFAULT_CONCURRENCY, async (abs) => {
      const file = relative(ctx.cwd, abs) || abs;
      const bytes = await readBytes(abs);
      let meta;
      try {
        meta = asEncrypted(loadDocument(bytes, file)).meta;
      } catch (e) {
        return {
          file,
          environment: env.name,
          missing: recipients,
          extra: [],
          problem: e instanceof SealantError ? e.message : 'unreadable',
        };
      }
      const d = diffRecipients(meta, env.groups, env.shamirThreshold);
      if (!d.changed) return undefined;
      const row2: AccessReport['drift'][number] = { file, environment: env.name, missing: d.added, extra: d.removed };
      if (d.added.length === 0 && d.removed.length === 0) row2.problem = 'key groups or threshold differ';
      return row2;
    });
    for (const c of checks) {
      if (!c.ok) throw c.error;
      if (c.value !== undefined) report.drift.push(c.value);
    }
  }
  report.matrix = [...byRecipient.entries()]
    .map(([recipient, environments]) => ({ recipient, environments }))
    .sort((a, b) => a.recipient.localeCompare(b.recipient));
  return report;
}
