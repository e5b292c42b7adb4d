import { BaseCommand } from '../../cli/base.js';
import { contextFor, stringArg } from '../../cli/flags.js';
import { writeStdout } from '../../cli/output.js';
import { refuseStdinFiles } from '../../cli/stdio.js';
import { readBytes } from '../../ops/read.js';
import { utf8Text } from '../../util/utf8.js';
import { keySources } from '../../ops/context.js';
import { textconvView, type TextconvMode } from '../../git/textconv.js';

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
    const bytes = await readBytes(args.file);
    const text = utf8Text(bytes);
    if (text === undefined) {
      // Not text, so not a SOPS file: git shows the content as it is, never a "repaired" copy.
      if (!this.jsonEnabled()) await writeStdout(bytes);
      return { mode: 'raw' };
    }
    const all = await keySources(
      contextFor((m) => this.warnUser(m)),
      {},
    );
    // Age identities only: `git log -p` runs this once per revision and must not wait on AWS or gpg.
    const sources = all.age.recipients().length === 0 ? undefined : { age: all.age };
    const view = await textconvView(text, args.file, sources);
    if (!this.jsonEnabled()) process.stdout.write(view.text);
    return { mode: view.mode };
  }
}
