import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { exitWith } from '../cli/exit.js';
import { contextFor, identityFlag, stringArg } from '../cli/flags.js';
import { UsageError } from '../errors.js';
import { diffReportText, diffRevisions, type DiffReport, type KeyMode } from '../ops/diff.js';

export default class Diff extends BaseCommand<DiffReport> {
  static override summary = 'Review the SOPS files that changed between two git revisions.';
  static override description =
    "Compares each changed SOPS file (or file the config owns) key by key. Without keys it reads what is in clear: keys added/removed, values whose ciphertext changed (sealant keeps an unchanged value's ciphertext), type changes, recipients, data-key rotation, rule, MAC — and flags plaintext loudly. With an identity that opens the files it compares plaintexts, masked as lengths and per-run fingerprints unless --show-values. Exit code 1 when a file needs attention (plaintext committed, MAC mismatch).";
  static override examples = [
    { description: 'Uncommitted changes against HEAD', command: '<%= config.bin %> <%= command.id %>' },
    {
      description: 'A pull request, as Markdown for the job summary',
      command: '<%= config.bin %> <%= command.id %> --base origin/main --format markdown >> "$GITHUB_STEP_SUMMARY"',
    },
    {
      description: 'Two commits, one directory, without keys',
      command: '<%= config.bin %> <%= command.id %> HEAD~3 HEAD --no-keys -- envs/prod',
    },
  ];
  static override strict = false;
  static override args = {
    revA: stringArg({ description: 'Old revision (default: HEAD)' }),
    revB: stringArg({ description: 'New revision (default: the working tree)' }),
  };
  static override flags = {
    base: Flags.string({
      summary: "Compare HEAD with its merge base with this ref (a pull request's view).",
      helpValue: 'REF',
    }),
    keys: Flags.boolean({
      summary: 'Decrypt with keys (default: when an age identity is available; --no-keys never decrypts).',
      allowNo: true,
    }),
    'show-values': Flags.boolean({
      summary: 'Print decrypted and clear values instead of masking them.',
      default: false,
    }),
    format: Flags.string({
      summary: 'Output format (ignored with --json).',
      options: ['human', 'markdown'],
      default: 'human',
    }),
    identity: identityFlag(),
  };

  async run(): Promise<DiffReport> {
    const { argv, flags } = await this.parse(Diff);
    const { revs, paths } = this.splitArgs(argv as string[]);
    if (revs.length > 2)
      throw new UsageError('at most two revisions', { hint: 'put paths after `--`: sealant diff HEAD~1 -- secrets/' });
    const keys: KeyMode = flags.keys === undefined ? 'auto' : flags.keys ? 'keys' : 'no-keys';
    const report = await diffRevisions(
      contextFor((m) => this.warnUser(m)),
      {
        ...(revs[0] === undefined ? {} : { revA: revs[0] }),
        ...(revs[1] === undefined ? {} : { revB: revs[1] }),
        ...(flags.base === undefined ? {} : { base: flags.base }),
        paths,
        keys,
        showValues: flags['show-values'],
        identityFiles: flags.identity ?? [],
      },
    );
    if (!this.jsonEnabled()) this.log(diffReportText(report, flags.format === 'markdown' ? 'markdown' : 'human'));
    if (report.alerts > 0) exitWith('DIFF_ALERTS');
    return report;
  }

  /** Positionals before `--` are revisions, after it paths (as with `git diff`). */
  private splitArgs(argv: string[]): { revs: string[]; paths: string[] } {
    const end = this.argv.indexOf('--');
    if (end === -1) return { revs: argv, paths: [] };
    const paths = this.argv.slice(end + 1);
    return { revs: argv.slice(0, argv.length - paths.length), paths };
  }
}
