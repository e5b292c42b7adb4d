import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { exitWith } from '../cli/exit.js';
import { configFlag, contextFor } from '../cli/flags.js';
import { accessReport, type AccessReport } from '../ops/access.js';

export default class Access extends BaseCommand<AccessReport> {
  static override summary = 'Who can decrypt which environment, and which files drifted from the config.';
  static override description =
    "Prints the environment × recipient matrix from .sealant.yaml (or .sops.yaml) and checks every file's sops metadata against it — no key needed. Exit code 1 when a file drifted (recipients differ from the config): fix with `sealant updatekeys`.";
  static override examples = [
    { description: 'The matrix and drift', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'For CI', command: '<%= config.bin %> <%= command.id %> --json' },
  ];
  static override flags = {
    env: Flags.string({ char: 'e', summary: 'Only this environment.' }),
    config: configFlag(),
  };

  async run(): Promise<AccessReport> {
    const { flags } = await this.parse(Access);
    const report = await accessReport(
      contextFor((m) => this.warnUser(m)),
      { env: flags.env, configPath: flags.config },
    );
    if (!this.jsonEnabled()) this.log(render(report));
    if (report.drift.length > 0) exitWith('ACCESS_DRIFT');
    return report;
  }
}

function render(r: AccessReport): string {
  const envs = r.environments.map((e) => e.name);
  const width = Math.max(9, ...r.matrix.map((m) => m.recipient.length));
  const lines = [`${'recipient'.padEnd(width)}  ${envs.join('  ')}`];
  for (const m of r.matrix)
    lines.push(
      `${m.recipient.padEnd(width)}  ${envs.map((e) => (m.environments.includes(e) ? 'x' : '-').padEnd(e.length)).join('  ')}`,
    );
  lines.push('');
  for (const e of r.environments)
    lines.push(
      `${e.name}: ${e.files} file(s), ${e.recipients.length} recipient(s)${e.shamirThreshold !== undefined ? `, ${e.shamirThreshold} groups needed` : ''}`,
    );
  if (r.drift.length === 0) lines.push('no drift: every file matches its environment');
  for (const d of r.drift) {
    lines.push(`DRIFT ${d.file} (${d.environment})${d.problem !== undefined ? `: ${d.problem}` : ''}`);
    for (const m of d.missing) lines.push(`  missing ${m}`);
    for (const x of d.extra) lines.push(`  extra   ${x}`);
  }
  return lines.join('\n');
}
