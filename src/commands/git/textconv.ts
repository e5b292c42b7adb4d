import { BaseCommand } from '../../cli/base.js';
import { contextFor, stringArg } from '../../cli/flags.js';
import { writeStdout } from '../../cli/output.js';
import { refuseStdinFiles } from '../../cli/stdio.js';
import type { TextconvMode } from '../../git/textconv.js';
import { textconvFile } from '../../ops/git-textconv.js';

/** Hidden: git's `diff.sealant.textconv` (set by `sealant git install`). */
export default class GitTextconv extends BaseCommand<{ mode: TextconvMode }> {
  static override hidden = true;
  static override summary = 'Print the stable text view of an encrypted file (git textconv).';
  static override description =
    'Called by git with a temporary copy of the file. Prints it decrypted when an age identity opens it, else one line per key path with its type and a short hash of its ciphertext, then the recipients.';
  static override args = { file: stringArg({ description: 'The file (a temporary copy git made)', required: true }) };

  async run(): Promise<{ mode: TextconvMode }> {
    const { args } = await this.parse(GitTextconv);
    refuseStdinFiles([args.file], 'git textconv');
    const view = await textconvFile(
      contextFor((m) => this.warnUser(m)),
      args.file,
    );
    if ('bytes' in view) {
      if (!this.jsonEnabled()) await writeStdout(view.bytes);
      return { mode: 'raw' };
    }
    if (!this.jsonEnabled()) process.stdout.write(view.text);
    return { mode: view.mode };
  }
}
