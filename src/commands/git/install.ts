import { join } from 'node:path';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base.js';
import { contextFor } from '../../cli/flags.js';
import { installGitIntegration, type GitInstallResult } from '../../ops/git-install.js';

export default class GitInstall extends BaseCommand<GitInstallResult> {
  static override summary =
    'Make git diff, git log -p and git merge understand the encrypted files of this repository.';
  static override description =
    "Adds `diff=sealant merge=sealant` lines to .gitattributes for every environment's files (existing lines are kept; running it again adds nothing), defines the sealant diff (textconv) and merge drivers in the repository's local git config, and installs the pre-commit hook that runs `sealant guard` unless --no-hook.";
  static override examples = [
    { description: 'Set up a fresh clone', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'Drivers only, no hook', command: '<%= config.bin %> <%= command.id %> --no-hook' },
  ];
  static override flags = {
    hook: Flags.boolean({ summary: 'Install the pre-commit hook (--no-hook skips it).', default: true, allowNo: true }),
    force: Flags.boolean({ summary: 'Replace an existing pre-commit hook sealant did not write.', default: false }),
  };

  async run(): Promise<GitInstallResult> {
    const { flags } = await this.parse(GitInstall);
    const result = await installGitIntegration(
      contextFor((m) => this.warnUser(m)),
      {
        invocation: { node: process.execPath, bin: join(this.config.root, 'bin', 'run.js') },
        hook: flags.hook,
        force: flags.force,
      },
    );
    for (const w of result.warnings) this.warnUser(w);
    if (!this.jsonEnabled()) {
      this.log(
        `.gitattributes: ${result.attributes.added.length === 0 ? 'up to date' : `added ${result.attributes.added.length} line(s)`}`,
      );
      this.log('git config (local): diff.sealant.textconv, merge.sealant.driver set');
      this.log(
        `pre-commit hook: ${result.hook.installed ? (result.hook.path ?? 'installed') : (result.hook.reason ?? 'not installed')}`,
      );
    }
    return result;
  }
}
