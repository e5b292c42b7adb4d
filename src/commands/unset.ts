import { BaseCommand } from '../cli/base.js';
import { configFlag, contextFor, identityFlag, inputTypeFlag, stringArg } from '../cli/flags.js';
import { refuseStdinFiles } from '../cli/stdio.js';
import { formatPath } from '../errors.js';
import { unsetValue } from '../ops/set.js';

/** `sealant unset --json` result (public API). */
export interface UnsetCommandResult {
  file: string;
  path: string;
  changed: boolean;
}

export default class Unset extends BaseCommand<UnsetCommandResult> {
  static override summary = 'Remove one key (or list item) from an encrypted file.';
  static override description =
    'Like `sops unset`. Exit code 91 when the path does not exist. Other values keep their exact ciphertext.';
  static override examples = [
    {
      description: 'Remove a key',
      command: '<%= config.bin %> <%= command.id %> secrets.yaml \'["db"]["old_password"]\'',
    },
    { description: 'Remove the first list item', command: '<%= config.bin %> <%= command.id %> secrets.yaml hosts[0]' },
  ];
  static override args = {
    file: stringArg({ description: 'Encrypted file', required: true }),
    path: stringArg({ description: 'Key path: ["a"]["b"][0] or a.b[0]', required: true }),
  };
  static override flags = { 'input-type': inputTypeFlag(), identity: identityFlag(), config: configFlag() };

  async run(): Promise<UnsetCommandResult> {
    const { args, flags } = await this.parse(Unset);
    refuseStdinFiles([args.file], 'unset');
    const r = await unsetValue(
      args.file,
      args.path,
      contextFor((m) => this.warnUser(m)),
      { inputType: flags['input-type'], identityFiles: flags.identity ?? [], configPath: flags.config },
    );
    if (!this.jsonEnabled()) this.logToStderr(`removed ${formatPath(r.path)} from ${r.file}`);
    return { file: r.file, path: formatPath(r.path), changed: r.changed };
  }
}
