import { BaseCommand } from '../cli/base.js';
import { contextFor, identityFlag, inputTypeFlag, stringArg } from '../cli/flags.js';
import { refuseStdinFiles } from '../cli/stdio.js';
import { editFile } from '../ops/edit.js';

/** `sealant edit --json` result (public API). */
export interface EditCommandResult {
  file: string;
  changed: boolean;
}

export default class Edit extends BaseCommand<EditCommandResult> {
  static override summary = 'Edit an encrypted file in $EDITOR.';
  static override description =
    'Decrypts into a 0600 file inside a private temporary directory (removed afterwards, also on Ctrl-C), opens $SOPS_EDITOR or $EDITOR, and re-encrypts what you saved. Values you did not change keep their exact ciphertext. Saving without changes exits with code 200, as sops does.';
  static override examples = [
    { description: 'Edit with your editor', command: '<%= config.bin %> <%= command.id %> environments/dev/app.yaml' },
    { description: 'Edit with VS Code', command: 'EDITOR="code --wait" <%= config.bin %> <%= command.id %> secrets.yaml' },
  ];
  static override args = { file: stringArg({ description: 'Encrypted file', required: true }) };
  static override flags = { 'input-type': inputTypeFlag(), identity: identityFlag() };

  async run(): Promise<EditCommandResult> {
    const { args, flags } = await this.parse(Edit);
    refuseStdinFiles([args.file], 'edit');
    const r = await editFile(args.file, contextFor((m) => this.warnUser(m)), {
      inputType: flags['input-type'],
      identityFiles: flags.identity ?? [],
      retryOnInvalid: process.stdin.isTTY === true,
    });
    if (!this.jsonEnabled()) this.logToStderr(`saved ${r.file}`);
    return r;
  }
}
