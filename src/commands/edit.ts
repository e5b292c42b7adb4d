import { BaseCommand } from '../cli/base.js';
import { ageRecipientsFlag, configFlag, contextFor, identityFlag, inputTypeFlag, stringArg } from '../cli/flags.js';
import { refuseStdinFiles } from '../cli/stdio.js';
import { editFile } from '../ops/edit.js';
import { parseAgeRecipientList } from '../ops/encrypt.js';

/** `sealant edit --json` result (public API). */
export interface EditCommandResult {
  file: string;
  changed: boolean;
}

export default class Edit extends BaseCommand<EditCommandResult> {
  static override summary = 'Edit an encrypted file in $EDITOR.';
  static override description =
    "Decrypts into a 0600 file inside a private temporary directory (removed afterwards, also on Ctrl-C), opens $SOPS_EDITOR or $EDITOR, and re-encrypts what you saved. Values you did not change keep their exact ciphertext. Saving without changes exits with code 200, as sops does. A file that does not exist yet is created, as in sops: the editor opens on an example document and what you save is encrypted for --age (or $SOPS_AGE_RECIPIENTS, else the file's environment in the config).";
  static override examples = [
    { description: 'Edit with your editor', command: '<%= config.bin %> <%= command.id %> environments/dev/app.yaml' },
    {
      description: 'Edit with VS Code',
      command: 'EDITOR="code --wait" <%= config.bin %> <%= command.id %> secrets.yaml',
    },
    {
      description: 'Create a new encrypted file for one recipient',
      command: '<%= config.bin %> <%= command.id %> --age age1… new-secrets.yaml',
    },
  ];
  static override args = {
    file: stringArg({ description: 'Encrypted file (created when it does not exist)', required: true }),
  };
  static override flags = {
    'input-type': inputTypeFlag(),
    identity: identityFlag(),
    age: ageRecipientsFlag(),
    config: configFlag(),
  };

  async run(): Promise<EditCommandResult> {
    const { args, flags } = await this.parse(Edit);
    refuseStdinFiles([args.file], 'edit');
    const r = await editFile(
      args.file,
      contextFor((m) => this.warnUser(m)),
      {
        inputType: flags['input-type'],
        identityFiles: flags.identity ?? [],
        retryOnInvalid: process.stdin.isTTY === true,
        newFile: { age: parseAgeRecipientList(flags.age ?? []) },
        ...(flags.config === undefined ? {} : { configPath: flags.config }),
      },
    );
    if (!this.jsonEnabled()) this.logToStderr(`saved ${r.file}`);
    return r;
  }
}
