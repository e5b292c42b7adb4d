import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { configFlag, contextFor, identityFlag, inputTypeFlag, stringArg } from '../cli/flags.js';
import { readStdinText, refuseStdinFiles } from '../cli/stdio.js';
import { UsageError } from '../errors.js';
import { setValue } from '../ops/set.js';
import { parseJsonValue, stringValue } from '../ops/value.js';
import { formatPath } from '../errors.js';

/** `sealant set --json` result (public API). */
export interface SetCommandResult {
  file: string;
  path: string;
  changed: boolean;
}

export default class SetCommand extends BaseCommand<SetCommandResult> {
  static override summary = 'Set one value in an encrypted file without decrypting it to disk.';
  static override description =
    'VALUE is JSON, as in `sops set` (a string needs quotes: \'"text"\'). Use --value-stdin to keep a secret out of your shell history. Every other value keeps its exact ciphertext, so the git diff shows this value plus the mac and lastmodified lines.';
  static override examples = [
    {
      description: 'Set a string',
      command: '<%= config.bin %> <%= command.id %> secrets.yaml \'["db"]["password"]\' \'"s3cr3t"\'',
    },
    {
      description: 'Set a number with the dotted path form',
      command: '<%= config.bin %> <%= command.id %> secrets.yaml db.port 5432',
    },
    {
      description: 'Read the value from stdin as a plain string',
      command: 'printf %s "$TOKEN" | <%= config.bin %> <%= command.id %> --value-stdin --string secrets.yaml api.token',
    },
  ];
  static override args = {
    file: stringArg({ description: 'Encrypted file', required: true }),
    path: stringArg({ description: 'Key path: ["a"]["b"][0] or a.b[0]', required: true }),
    value: stringArg({ description: 'JSON value (or a plain string with --string)', required: false }),
  };
  static override flags = {
    string: Flags.boolean({ summary: 'Take VALUE as a literal string instead of JSON.', default: false }),
    'value-stdin': Flags.boolean({
      summary: 'Read VALUE from stdin, exactly (nothing trimmed; it must be UTF-8).',
      default: false,
    }),
    'input-type': inputTypeFlag(),
    identity: identityFlag(),
    config: configFlag(),
  };

  async run(): Promise<SetCommandResult> {
    const { args, flags } = await this.parse(SetCommand);
    refuseStdinFiles([args.file], 'set');
    let raw: string;
    if (flags['value-stdin']) {
      if (args.value !== undefined) throw new UsageError('give VALUE or --value-stdin, not both');
      raw = await readStdinText('the value of --value-stdin');
    } else if (args.value === undefined) {
      // Piped stdin is not taken silently: only --value-stdin reads it.
      throw new UsageError('missing VALUE', { hint: 'pass a JSON value, or --value-stdin to read it from stdin' });
    } else raw = args.value;
    const value = flags.string ? stringValue(raw) : parseJsonValue(raw);
    const r = await setValue(
      args.file,
      args.path,
      value,
      contextFor((m) => this.warnUser(m)),
      { inputType: flags['input-type'], identityFiles: flags.identity ?? [], configPath: flags.config },
    );
    if (!this.jsonEnabled())
      this.logToStderr(
        r.changed
          ? `updated ${formatPath(r.path)} in ${r.file}`
          : `${formatPath(r.path)} already had that value; ${r.file} not changed`,
      );
    return { file: r.file, path: formatPath(r.path), changed: r.changed };
  }
}
