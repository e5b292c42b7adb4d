import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base.js';
import { configFlag, contextFor, stringArg } from '../../cli/flags.js';
import type { RecipientChange } from '../../config/edit.js';
import { addRecipient, editableConfig } from '../../ops/config-edit.js';

/** `sealant recipients add --json` result (public API). */
export interface RecipientsAddResult extends RecipientChange {
  /** The command that re-wraps the environment's data keys for the new recipient set. */
  next: string;
}

export default class RecipientsAdd extends BaseCommand<RecipientsAddResult> {
  static override summary = 'Add a recipient to an environment in .sealant.yaml.';
  static override description =
    'Adds an age recipient, an AWS KMS key ARN (optionally ARN+ROLE_ARN) or a PGP fingerprint to the environment, keeping every comment and the rest of the file byte for byte. Adding a recipient that is already there changes nothing. The encrypted files are not touched: run `sealant updatekeys --env ENV` afterwards so their data keys are wrapped for the new recipient too.';
  static override examples = [
    {
      description: 'Give a new teammate access to dev',
      command: '<%= config.bin %> <%= command.id %> --env dev age1…',
    },
    {
      description: 'A KMS key, through a role',
      command:
        '<%= config.bin %> <%= command.id %> --env prod arn:aws:kms:eu-west-1:111122223333:key/…+arn:aws:iam::111122223333:role/deployer',
    },
    {
      description: 'Into the second key group',
      command: '<%= config.bin %> <%= command.id %> --env prod --group 2 age1…',
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

  async run(): Promise<RecipientsAddResult> {
    const { args, flags } = await this.parse(RecipientsAdd);
    const ctx = contextFor((m) => this.warnUser(m));
    const { path, shown } = await editableConfig(ctx.cwd, ctx.env, flags.config);
    const change = await addRecipient(path, flags.env, args.recipient, {
      shown,
      ...(flags.group === undefined ? {} : { group: flags.group }),
    });
    const next = `sealant updatekeys --env ${flags.env}`;
    if (!this.jsonEnabled()) {
      const where = `${change.environment}${change.group === undefined ? '' : ` (group ${change.group})`}`;
      this.log(
        change.changed
          ? `${shown}: added ${change.recipient} to ${where}`
          : `${change.recipient} is already a recipient of ${where}; nothing changed`,
      );
      if (change.changed) this.log(`Now run \`${next}\` to give it access to the environment's files.`);
    }
    return { ...change, next };
  }
}
