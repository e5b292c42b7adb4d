import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base.js';
import { configFlag, contextFor, stringArg } from '../../cli/flags.js';
import type { RecipientChange } from '../../config/edit.js';
import { editableConfig, removeRecipient } from '../../ops/config-edit.js';

/** `sealant recipients remove --json` result (public API). */
export interface RecipientsRemoveResult extends RecipientChange {
  /** The command that re-wraps the environment's data keys without the removed recipient. */
  next: string;
}

export default class RecipientsRemove extends BaseCommand<RecipientsRemoveResult> {
  static override summary = 'Remove a recipient from an environment in .sealant.yaml.';
  static override description =
    'Removes an age recipient, an AWS KMS key (every entry for the ARN, or only ARN+ROLE_ARN) or a PGP fingerprint from the environment, keeping every comment and the rest of the file byte for byte. The last recipient of an environment (or key group) cannot be removed. Run `sealant updatekeys --env ENV` afterwards; the removed recipient can still open the current data keys (and git history) until `sealant rotate`.';
  static override examples = [
    { description: 'Someone left the team', command: '<%= config.bin %> <%= command.id %> --env prod age1…' },
    {
      description: 'From the first key group',
      command: '<%= config.bin %> <%= command.id %> --env prod --group 1 arn:aws:kms:eu-west-1:111122223333:key/…',
    },
  ];
  static override args = {
    recipient: stringArg({ description: 'age1…, arn:aws:kms:… (+ROLE_ARN) or a PGP fingerprint', required: true }),
  };
  static override flags = {
    env: Flags.string({ char: 'e', summary: 'The environment to change.', required: true }),
    group: Flags.integer({
      char: 'g',
      summary: 'Key group, 1-based (required when the environment uses key_groups).',
      min: 1,
    }),
    config: configFlag('The .sealant.yaml to edit (default: found from the current directory up).'),
  };

  async run(): Promise<RecipientsRemoveResult> {
    const { args, flags } = await this.parse(RecipientsRemove);
    const ctx = contextFor((m) => this.warnUser(m));
    const { path, shown } = await editableConfig(ctx.cwd, ctx.env, flags.config);
    const change = await removeRecipient(path, flags.env, args.recipient, {
      shown,
      ...(flags.group === undefined ? {} : { group: flags.group }),
    });
    const next = `sealant updatekeys --env ${flags.env}`;
    if (!this.jsonEnabled()) {
      const where = `${change.environment}${change.group === undefined ? '' : ` (group ${change.group})`}`;
      this.log(
        change.changed
          ? `${shown}: removed ${change.recipient} from ${where}`
          : `${change.recipient} is not a recipient of ${where}; nothing changed`,
      );
      if (change.changed)
        this.log(
          `Now run \`${next}\`, then \`sealant rotate --env ${flags.env}\`: until the data keys are rotated the removed recipient can still decrypt them.`,
        );
    }
    return { ...change, next };
  }
}
