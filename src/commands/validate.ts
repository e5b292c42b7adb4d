import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { exitWith } from '../cli/exit.js';
import { concurrencyFlag } from '../cli/bulk.js';
import { configFlag, contextFor, identityFlag, stringArg } from '../cli/flags.js';
import { refuseStdinFiles } from '../cli/stdio.js';
import { ERRORS, SealantError, UsageError, type ExitName } from '../errors.js';
import { keySources } from '../ops/context.js';
import { validate, validateReportText, type ValidateMode, type ValidateReport } from '../ops/validate.js';

/** `sealant validate --json` result (public API). */
export type ValidateCommandResult = ValidateReport;

/** Config problems stop the run before any file is judged: `VALIDATE_CONFIG`, exit 2 like usage errors. */
const CONFIG_EXITS: ReadonlySet<ExitName> = new Set<ExitName>(['ErrorReadingConfig', 'ConfigFileNotFound']);

function asUsageExit(e: unknown): unknown {
  if (!(e instanceof SealantError) || !CONFIG_EXITS.has(ERRORS[e.code].exit)) return e;
  const { file, path, line, col, hint } = e;
  return new SealantError('VALIDATE_CONFIG', e.message, { file, path, line, col, hint, cause: e });
}

export default class Validate extends BaseCommand<ValidateCommandResult> {
  static override summary = 'Check encrypted files against their schema, without keys by default.';
  static override description =
    'Without keys: SOPS metadata and recipients, structure and value types (from the ENC type tag) against the environment\'s JSON Schema, x-sealant-secret values and every value the encryption rule selects are encrypted. Rules that need the values (pattern, format, limits…) are reported as "needs keys" notes. --decrypt checks those too; --parity compares key paths across environments. Keys whose value is "" or null, which the MAC does not cover (anyone can add them without a key), are warnings. Exit 1 when anything is wrong (warnings and notes are not), 2 for a usage or config error (a schema that does not compile).';
  static override examples = [
    { description: 'Every file of every environment, no keys needed', command: '<%= config.bin %> <%= command.id %>' },
    {
      description: 'All rules, with keys, as GitHub annotations',
      command: '<%= config.bin %> <%= command.id %> --env prod --decrypt --format github',
    },
    {
      description: 'Keys present in one environment but missing in another',
      command: '<%= config.bin %> <%= command.id %> --parity',
    },
  ];
  static override strict = false;
  static override args = {
    files: stringArg({ description: 'Files (default: every file of --env, or of all environments)' }),
  };
  static override flags = {
    env: Flags.string({ char: 'e', summary: 'Only the files of this environment (with --parity: only its gaps).' }),
    config: configFlag(),
    decrypt: Flags.boolean({
      summary: 'Decrypt and check every rule on the real values.',
      default: false,
      exclusive: ['parity'],
    }),
    parity: Flags.boolean({
      summary: 'Compare key paths across environments (no keys needed).',
      default: false,
      exclusive: ['decrypt'],
    }),
    notes: Flags.boolean({
      summary: 'List "needs keys" notes (--no-notes: errors and warnings only; the summary still counts notes).',
      default: true,
      allowNo: true,
    }),
    format: Flags.string({
      summary: 'Output for people or GitHub Actions annotations.',
      options: ['human', 'github'],
      default: 'human',
    }),
    identity: identityFlag(),
    concurrency: concurrencyFlag(),
  };

  async run(): Promise<ValidateCommandResult> {
    const { argv, flags } = await this.parse(Validate);
    const files = argv as string[];
    refuseStdinFiles(files, 'validate');
    if (flags.parity && files.length > 0)
      throw new UsageError('--parity compares whole environments; it takes no files', {
        hint: 'use --env to limit it',
      });
    const mode: ValidateMode = flags.parity ? 'parity' : flags.decrypt ? 'decrypt' : 'keyless';
    const ctx = contextFor((m) => this.warnUser(m));
    let result: ValidateReport;
    try {
      const sources = mode === 'decrypt' ? await keySources(ctx, { identityFiles: flags.identity ?? [] }) : undefined;
      result = await validate(ctx, {
        mode,
        files,
        env: flags.env,
        configPath: flags.config,
        sources,
        concurrency: flags.concurrency,
      });
    } catch (e) {
      throw asUsageExit(e);
    }
    if (!this.jsonEnabled()) this.print(result, flags.format === 'github', flags.notes);
    if (result.errors > 0) exitWith('VALIDATION_FAILED');
    return result;
  }

  private print(result: ValidateReport, github: boolean, notes: boolean): void {
    const text = validateReportText(result, { github, notes });
    for (const line of text.lines) this.log(line);
    this.logToStderr(text.summary);
  }
}
