import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { bulkEntries, bulkExitCode, concurrencyFlag, failureLine, type BulkEntry } from '../cli/bulk.js';
import { exitWithStatus } from '../cli/exit.js';
import { configFlag, contextFor, identityFlag, stringArg } from '../cli/flags.js';
import { refuseStdinFiles } from '../cli/stdio.js';
import { keySources } from '../ops/context.js';
import { resolveTargets } from '../ops/targets.js';
import { updateKeys, type UpdateKeysResult } from '../ops/updatekeys.js';

/** `sealant updatekeys --json` result (public API). */
export interface UpdateKeysCommandResult {
  dryRun: boolean;
  files: BulkEntry<UpdateKeysResult>[];
}

export default class UpdateKeys extends BaseCommand<UpdateKeysCommandResult> {
  static override summary = 'Re-wrap data keys for the recipients the config names now.';
  static override description =
    'For each file (or every file of --env), compares its key stanzas with its environment in .sealant.yaml (or the matching .sops.yaml creation rule) and re-wraps the SAME data key for the new recipient set. Only the sops block changes; values, mac and lastmodified do not. Removed recipients can still decrypt old versions from git history and anything they copied: follow with `sealant rotate` to give the files a new data key.';
  static override examples = [
    {
      description: 'After `sealant recipients remove --env prod age1…`',
      command: '<%= config.bin %> <%= command.id %> --env prod',
    },
    {
      description: 'Preview without writing',
      command: '<%= config.bin %> <%= command.id %> --dry-run environments/dev/app.yaml',
    },
  ];
  static override strict = false;
  static override args = {
    files: stringArg({ description: 'Files (default: every file of --env, or of all environments)' }),
  };
  static override flags = {
    env: Flags.string({ char: 'e', summary: 'Only the files of this environment.' }),
    config: configFlag(),
    'dry-run': Flags.boolean({ summary: 'Show what would change; write nothing.', default: false }),
    identity: identityFlag(),
    concurrency: concurrencyFlag(),
  };

  async run(): Promise<UpdateKeysCommandResult> {
    const { argv, flags } = await this.parse(UpdateKeys);
    refuseStdinFiles(argv as string[], 'updatekeys');
    const ctx = contextFor((m) => this.warnUser(m));
    const { targets } = await resolveTargets(ctx, {
      files: argv as string[],
      env: flags.env,
      configPath: flags.config,
      requireEnvironment: true,
    });
    const sources = await keySources(ctx, { identityFiles: flags.identity ?? [] });
    const outcomes = await updateKeys(targets, ctx, {
      sources,
      dryRun: flags['dry-run'],
      concurrency: flags.concurrency,
    });
    const files = bulkEntries(
      targets.map((t) => t.file),
      outcomes,
    );
    if (!this.jsonEnabled()) {
      for (const e of files) {
        if (!e.ok) this.logToStderr(failureLine(e));
        else if (!e.changed) this.log(`${e.file}: up to date`);
        else
          this.log(
            `${e.file}: ${flags['dry-run'] ? 'would update' : 'updated'}${e.added.map((a) => `\n  + ${a}`).join('')}${e.removed.map((r) => `\n  - ${r}`).join('')}`,
          );
      }
    }
    exitWithStatus(bulkExitCode(outcomes));
    return { dryRun: flags['dry-run'], files };
  }
}
