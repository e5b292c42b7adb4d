import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base.js';
import { configFlag, contextFor } from '../../cli/flags.js';
import type { EnvironmentRecipients, RecipientsListing } from '../../config/listing.js';
import { listProjectRecipients } from '../../ops/recipients-list.js';

export default class RecipientsList extends BaseCommand<RecipientsListing> {
  static override summary = 'List the recipients of each environment.';
  static override description =
    'Reads .sealant.yaml (or, without one, the creation rules of .sops.yaml) and shows who each environment is encrypted for: age recipients, AWS KMS keys and PGP fingerprints, per key group.';
  static override examples = [
    { description: 'Every environment', command: '<%= config.bin %> <%= command.id %>' },
    {
      description: 'One environment, for scripts',
      command: "<%= config.bin %> <%= command.id %> --env prod --json | jq -r '.result.environments[0].groups[].age[]'",
    },
  ];
  static override flags = {
    env: Flags.string({ char: 'e', summary: 'Only this environment.' }),
    config: configFlag(),
  };

  async run(): Promise<RecipientsListing> {
    const { flags } = await this.parse(RecipientsList);
    const ctx = contextFor((m) => this.warnUser(m));
    const listing = await listProjectRecipients(ctx, {
      ...(flags.config === undefined ? {} : { config: flags.config }),
      ...(flags.env === undefined ? {} : { env: flags.env }),
    });
    if (!this.jsonEnabled()) this.log(listing.environments.map(render).join('\n'));
    return listing;
  }
}

function render(e: EnvironmentRecipients): string {
  const scope =
    e.files !== undefined ? e.files.join(' ') : e.pathRegex !== undefined ? `path_regex ${e.pathRegex}` : 'every file';
  const lines = [`${e.name} (${scope})`];
  e.groups.forEach((g, i) => {
    const indent = e.groups.length > 1 ? '    ' : '  ';
    if (e.groups.length > 1) lines.push(`  group ${i + 1}:`);
    for (const a of g.age) lines.push(`${indent}age  ${a}`);
    for (const k of g.kms)
      lines.push(
        `${indent}kms  ${k.arn}${k.role === undefined ? '' : ` (role ${k.role})`}${k.awsProfile === undefined ? '' : ` (profile ${k.awsProfile})`}`,
      );
    for (const p of g.pgp) lines.push(`${indent}pgp  ${p}`);
    if (g.age.length + g.kms.length + g.pgp.length === 0) lines.push(`${indent}(no recipients)`);
  });
  if (e.shamirThreshold !== undefined) lines.push(`  threshold: ${e.shamirThreshold} of ${e.groups.length} groups`);
  if (e.unsupportedKeys !== undefined)
    lines.push(`  also ${e.unsupportedKeys.join(', ')} keys (not supported by sealant yet)`);
  return lines.join('\n');
}
