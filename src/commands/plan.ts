import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { configFlag, contextFor, identityFlag } from '../cli/flags.js';
import { writeStdout } from '../cli/output.js';
import { isStdoutPath } from '../cli/stdio.js';
import { keySources } from '../ops/context.js';
import { planFileText, planReport, planRotation, writePlanFile } from '../ops/plan.js';
import type { Plan } from '../plan/index.js';

/** `sealant plan --json` result (public API): the plan itself. */
export type PlanCommandResult = Plan;

export default class PlanCommand extends BaseCommand<PlanCommandResult> {
  static override summary = 'Show which files need a rewrap, a new data key or new values.';
  static override description =
    'Compares every file (or every file of --env) with its environment and its git history: recipients that differ from the config (rewrap), a data key a removed or offboarded recipient holds or older than data_key_max_age (rotate-data-key), values older than rotate_every or readable by an offboarded recipient (rotate-values). Writes nothing but --out; apply the plan with `sealant apply`.';
  static override examples = [
    {
      description: 'Plan for one environment and save it',
      command: '<%= config.bin %> <%= command.id %> --env prod --out plan.json',
    },
    {
      description: 'What could a departing teammate read?',
      command: '<%= config.bin %> <%= command.id %> --offboard age1…',
    },
  ];
  static override flags = {
    env: Flags.string({ char: 'e', summary: 'Only the files of this environment.' }),
    config: configFlag(),
    offboard: Flags.string({
      summary:
        'A recipient leaving (repeatable): report what it could read, remove it from .sealant.yaml, rotate the data keys and the secrets it could read.',
      multiple: true,
    }),
    out: Flags.string({
      char: 'o',
      summary: 'Write the plan (JSON) to this file for `sealant apply` ("-": to stdout, instead of the summary).',
    }),
    format: Flags.string({ summary: 'Output format.', options: ['human', 'markdown'], default: 'human' }),
    identity: identityFlag(),
  };

  async run(): Promise<PlanCommandResult> {
    const { flags } = await this.parse(PlanCommand);
    const ctx = contextFor((m) => this.warnUser(m));
    const sources = await keySources(ctx, { identityFiles: flags.identity ?? [] });
    const plan = await planRotation(ctx, {
      env: flags.env,
      configPath: flags.config,
      offboard: flags.offboard ?? [],
      sources,
    });
    const planJson = planFileText(plan);
    if (isStdoutPath(flags.out)) {
      // Under --json the envelope already carries the plan; a second document would break it.
      if (!this.jsonEnabled()) await writeStdout(planJson);
      // Stdout is the plan, for a program: a person still sees what it cannot vouch for.
      for (const w of plan.warnings) this.warnUser(w);
      return plan;
    }
    if (flags.out !== undefined) await writePlanFile(flags.out, planJson);
    if (!this.jsonEnabled()) this.log(planReport(plan, flags.format === 'markdown' ? 'markdown' : 'human').trimEnd());
    return plan;
  }
}
