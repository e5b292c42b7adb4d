import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { bulkEntries, bulkExitCode, concurrencyFlag, failureLine, type BulkEntry } from '../cli/bulk.js';
import { exitWithStatus } from '../cli/exit.js';
import { configFlag, contextFor, identityFlag, stringArg } from '../cli/flags.js';
import { refuseStdinFiles } from '../cli/stdio.js';
import { keySources } from '../ops/context.js';
import { rotate, type RotateResult } from '../ops/rotate.js';
import { resolveTargets } from '../ops/targets.js';

/** `sealant rotate --json` result (public API). */
export interface RotateCommandResult {
  files: BulkEntry<RotateResult>[];
}

export default class Rotate extends BaseCommand<RotateCommandResult> {
  static override summary = 'Give files a new data key and re-encrypt every value.';
  static override description =
    "Like `sops rotate`, for many files at once: each file is decrypted (MAC verified), a new data key is generated, every value is re-encrypted and the key is wrapped for the recipients of the file's environment (files outside any environment keep their current recipients). Every ciphertext line changes, by design. A file whose sops block is weaker than its environment (another encryption rule, mac_only_encrypted) is refused unless --adopt-rule.";
  static override examples = [
    { description: 'After offboarding someone from prod', command: '<%= config.bin %> <%= command.id %> --env prod' },
    { description: 'One file', command: '<%= config.bin %> <%= command.id %> secrets.yaml' },
    {
      description: "After strengthening the environment's encryption rule in .sealant.yaml",
      command: '<%= config.bin %> <%= command.id %> --adopt-rule --env prod',
    },
  ];
  static override strict = false;
  static override args = {
    files: stringArg({ description: 'Files (default: every file of --env, or of all environments)' }),
  };
  static override flags = {
    env: Flags.string({ char: 'e', summary: 'Only the files of this environment.' }),
    config: configFlag(),
    identity: identityFlag(),
    concurrency: concurrencyFlag(),
    'adopt-rule': Flags.boolean({
      summary:
        "Re-encrypt files whose own encryption rule is weaker than their environment's under the environment's rule (refused without it).",
      description:
        "Only after you changed the rule in the config on purpose and checked that nobody edited the files' sops blocks: values the file's MAC did not cover are taken as they are.",
      default: false,
    }),
  };

  async run(): Promise<RotateCommandResult> {
    const { argv, flags } = await this.parse(Rotate);
    refuseStdinFiles(argv as string[], 'rotate');
    const ctx = contextFor((m) => this.warnUser(m));
    const { targets } = await resolveTargets(ctx, {
      files: argv as string[],
      env: flags.env,
      configPath: flags.config,
    });
    const sources = await keySources(ctx, { identityFiles: flags.identity ?? [] });
    const outcomes = await rotate(targets, ctx, {
      sources,
      concurrency: flags.concurrency,
      adoptRule: flags['adopt-rule'],
    });
    const files = bulkEntries(
      targets.map((t) => t.file),
      outcomes,
    );
    if (!this.jsonEnabled())
      for (const e of files)
        e.ok
          ? this.log(`${e.file}: new data key for ${e.recipients.length} recipient(s)`)
          : this.logToStderr(failureLine(e));
    exitWithStatus(bulkExitCode(outcomes));
    return { files };
  }
}
