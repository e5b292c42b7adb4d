import { BaseCommand } from '../../cli/base.js';
import { exitWith } from '../../cli/exit.js';
import { contextFor, stringArg } from '../../cli/flags.js';
import { refuseStdinFiles } from '../../cli/stdio.js';
import { mergeDriver, type MergeDriverResult } from '../../ops/git-merge.js';

/** Hidden: git's `merge.sealant.driver` (set by `sealant git install`). */
export default class GitMergeDriver extends BaseCommand<MergeDriverResult> {
  static override hidden = true;
  static override summary = 'Merge three revisions of an encrypted file by key path (git merge driver).';
  static override description =
    'git calls it as `sealant git merge-driver %O %A %B %P`. Writes the merged, re-encrypted file to %A and exits 0, or leaves %A as ours (still encrypted) and exits 1 on a conflict or when the merge needs a key.';
  static override args = {
    ancestor: stringArg({ description: '%O: the common ancestor (a temporary file)', required: true }),
    current: stringArg({ description: '%A: ours; the result is written here', required: true }),
    other: stringArg({ description: '%B: theirs', required: true }),
    path: stringArg({ description: '%P: the real path of the file', required: true }),
  };

  async run(): Promise<MergeDriverResult> {
    const { args } = await this.parse(GitMergeDriver);
    refuseStdinFiles([args.ancestor, args.current, args.other], 'git merge-driver');
    const r = await mergeDriver(
      contextFor((m) => this.warnUser(m)),
      { ancestor: args.ancestor, current: args.current, other: args.other, path: args.path },
    );
    for (const w of r.warnings) this.warnUser(w);
    if (r.status === 'conflict') {
      process.stderr.write(
        `sealant: ${r.path}: both sides changed ${r.conflicts.length} key(s); resolve with \`sealant edit\`:\n${r.conflicts.map((p) => `  ${p}\n`).join('')}`,
      );
    } else if (r.status === 'needs-key') {
      process.stderr.write(
        `sealant: ${r.path}: merging needs the data key to recompute the MAC; set SOPS_AGE_KEY_FILE (or SOPS_AGE_KEY) and run the merge again\n`,
      );
    }
    if (r.status !== 'merged') exitWith('MERGE_UNRESOLVED');
    return r;
  }
}
