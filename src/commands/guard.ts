import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { exitWith } from '../cli/exit.js';
import { contextFor } from '../cli/flags.js';
import { guardStaged, type GuardReport, type GuardResult } from '../ops/guard.js';

/** `sealant guard --json` result (public API). */
export type GuardCommandResult = GuardReport;

// https://docs.github.com/actions/using-workflows/workflow-commands-for-github-actions
function escapeData(s: string): string {
  return s.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}

function escapeProperty(s: string): string {
  return escapeData(s).replaceAll(':', '%3A').replaceAll(',', '%2C');
}

/** `file:line  path  check: message`. */
export function guardHumanLine(r: GuardResult): string {
  const where = r.line === undefined ? r.file : `${r.file}:${r.line}`;
  const level = r.severity === 'warning' ? 'warning: ' : '';
  return `${where}  ${r.path ?? '(file)'}  ${level}${r.check}: ${r.message}`;
}

/** `::error file=F,line=L::check: path: message` (`::warning` for warnings). */
export function guardGithubLine(r: GuardResult): string {
  const props = [`file=${escapeProperty(r.file)}`, ...(r.line === undefined ? [] : [`line=${r.line}`])].join(',');
  const subject = r.path === undefined ? '' : `${r.path}: `;
  return `::${r.severity} ${props}::${escapeData(`${r.check}: ${subject}${r.message}`)}`;
}

export default class Guard extends BaseCommand<GuardCommandResult> {
  static override summary = 'Check the staged changes for secrets about to be committed (the pre-commit hook).';
  static override description =
    'Reads the index, not the work tree, with no key and no network. Fails (exit 1) when a file an environment owns is not encrypted, a value the encryption rule or the schema (x-sealant-secret) wants encrypted is in clear text, the sops metadata is malformed, or plaintext rendered by `sealant render` (a .env, JSON/YAML or Kubernetes Secret) is staged. File names such as *.dec.* are warnings (exit 0). Messages never hold a value.';
  static override examples = [
    { description: 'What the pre-commit hook runs', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'In CI, as annotations', command: '<%= config.bin %> <%= command.id %> --format github' },
  ];
  static override flags = {
    format: Flags.string({
      summary: 'Output for people or GitHub Actions annotations.',
      options: ['human', 'github'],
      default: 'human',
    }),
  };

  async run(): Promise<GuardCommandResult> {
    const { flags } = await this.parse(Guard);
    const ctx = contextFor((m) => this.warnUser(m));
    const result = await guardStaged(ctx);
    if (!this.jsonEnabled()) this.print(result, flags.format === 'github');
    if (result.errors > 0) exitWith('GUARD_FAILED');
    return result;
  }

  private print(result: GuardReport, github: boolean): void {
    for (const r of result.results) this.log(github ? guardGithubLine(r) : guardHumanLine(r));
    if (result.errors > 0)
      this.logToStderr(
        `sealant guard: ${result.errors} problem${result.errors === 1 ? '' : 's'} in ${result.files.length} staged file${result.files.length === 1 ? '' : 's'}; commit blocked (bypass once: git commit --no-verify)`,
      );
  }
}
