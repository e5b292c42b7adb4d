import { Errors } from '@oclif/core';

import { BaseCommand, debugEnabled } from '../../cli/base.js';
import { exitWithStatus } from '../../cli/exit.js';
import { contextFor, stringArg } from '../../cli/flags.js';
import { writeStdout } from '../../cli/output.js';
import { reportOneLine } from '../../cli/krm.js';
import { auditGeneratorRun, generatorRunYaml, readGeneratorConfig, runGenerator } from '../../ops/krm.js';
import Krm, { auditSink } from '../krm.js';

/** What `sealant kustomize generate` did (no `--json`: stdout is for kustomize). */
export interface KustomizeGenerateResult {
  generated: number;
}

export default class KustomizeGenerate extends BaseCommand<KustomizeGenerateResult> {
  static override hidden = true;
  static override summary = 'Run as the legacy kustomize exec plugin (used by `sealant kustomize install-plugin`).';
  static override description = [
    'kustomize runs the installed plugin as `SecretGenerator CONFIG_FILE` in the kustomization directory; this renders the Secrets of the SecretGenerator in CONFIG_FILE and prints them as multi-document YAML. Errors: one line on stderr, non-zero exit.',
    'Without CONFIG_FILE it is `sealant krm` (a ResourceList on stdin), so the installed script can also be the exec path of a KRM function for standalone `kustomize build --enable-alpha-plugins --enable-exec`.',
  ].join('\n\n');
  static override args = {
    config: stringArg({
      description:
        'The generator config file kustomize passes (-: read it from stdin; omit: read a KRM ResourceList on stdin).',
    }),
  };
  static override enableJsonFlag = false;

  /** Named in error lines once known: kustomize's own message names only a temp file. */
  private generatorName: string | undefined;

  async run(): Promise<KustomizeGenerateResult> {
    const { args } = await this.parse(KustomizeGenerate);
    if (args.config === undefined) {
      await Krm.run([], this.config);
      return { generated: 0 };
    }
    const generator = await readGeneratorConfig(args.config, (name) => {
      this.generatorName = name;
    });
    const ctx = contextFor((m) => this.warnUser(m));
    const sink = auditSink(ctx);
    const run = await runGenerator(ctx, generator, {});
    // kustomize discards a plugin's stderr when it succeeds: set SEALANT_AUDIT_LOG to keep the event.
    await auditGeneratorRun(ctx, run, sink);
    await writeStdout(generatorRunYaml(run));
    return { generated: run.manifests.length };
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<void> {
    if (err instanceof Errors.ExitError) throw err;
    this.parsed = true;
    const prefix = this.generatorName === undefined ? '' : `SecretGenerator "${this.generatorName}": `;
    exitWithStatus(reportOneLine(err, { verbose: this.verbose || debugEnabled(), prefix, commandId: this.id }));
  }
}
