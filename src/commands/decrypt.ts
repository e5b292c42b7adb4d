import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { contextFor, identityFlag, ignoreMacFlag, inputTypeFlag, outputTypeFlag, stringArg } from '../cli/flags.js';
import { writeOutputFile, writeStdout } from '../cli/output.js';
import { isStdinFile, isStdoutPath, readStdinInput, refuseInPlaceStdin } from '../cli/stdio.js';
import { decryptFile, decryptText, plaintextFields } from '../ops/decrypt.js';
import { inFile } from '../ops/read.js';

/** `sealant decrypt --json` result (public API). The plaintext is included only when it goes nowhere else. */
export interface DecryptCommandResult {
  file: string;
  format: string;
  output?: string;
  plaintext?: string;
  /** Binary content that is not UTF-8 text, base64-encoded (JSON strings cannot hold raw bytes). */
  plaintextBase64?: string;
  unwrappedBy: string[];
  macValid: boolean;
}

export default class Decrypt extends BaseCommand<DecryptCommandResult> {
  static override summary = 'Decrypt a SOPS file (to stdout, a file, or in place).';
  static override description =
    "Unwraps the data key with an available age identity, decrypts every value and verifies the MAC (exit 51 on mismatch, 128 when no key can decrypt). The output keeps the file's layout, comments and key order.";
  static override examples = [
    {
      description: 'Print the plaintext',
      command:
        'SOPS_AGE_KEY_FILE=environments/demo.agekey <%= config.bin %> <%= command.id %> environments/dev/app.yaml',
    },
    {
      description: 'Print one value',
      command: '<%= config.bin %> <%= command.id %> --extract \'["db"]["password"]\' secrets.yaml',
    },
    {
      description: 'Write JSON to a 0600 file',
      command: '<%= config.bin %> <%= command.id %> --output-type json --output secrets.json secrets.yaml',
    },
    {
      description: 'Decrypt what a pipe brings (stdin has no name: say its format)',
      command: 'git show HEAD:secrets.yaml | <%= config.bin %> <%= command.id %> --input-type yaml',
    },
  ];
  static override args = {
    file: stringArg({ description: 'Encrypted file (omitted or -: standard input, with --input-type)' }),
  };
  static override flags = {
    extract: Flags.string({ summary: 'Print only this value: ["key"]["sub"][0] or key.sub[0].', helpValue: 'PATH' }),
    output: Flags.string({
      summary: 'Write the plaintext to FILE (mode 0600) instead of stdout ("-" = stdout).',
      helpValue: 'FILE',
      exclusive: ['in-place'],
    }),
    'in-place': Flags.boolean({
      char: 'i',
      summary: 'Replace the file with its plaintext (mode 0600).',
      default: false,
    }),
    'input-type': inputTypeFlag(),
    'output-type': outputTypeFlag(),
    identity: identityFlag(),
    'ignore-mac': ignoreMacFlag(),
  };

  async run(): Promise<DecryptCommandResult> {
    const { args, flags } = await this.parse(Decrypt);
    const fromStdin = isStdinFile(args.file);
    refuseInPlaceStdin(flags['in-place'], fromStdin);
    const ctx = contextFor((m) => this.warnUser(m));
    const opts = {
      inputType: flags['input-type'],
      outputType: flags['output-type'],
      extract: flags.extract,
      ignoreMac: flags['ignore-mac'],
      identityFiles: flags.identity ?? [],
    };
    const input = fromStdin ? await readStdinInput(flags['input-type']) : undefined;
    const file = input?.file ?? args.file!;
    const r =
      input === undefined
        ? await decryptFile(file, ctx, opts)
        : await inFile(file, () => decryptText(input.bytes, file, ctx, { ...opts, inputType: input.format }));
    const result: DecryptCommandResult = { file, format: r.format, unwrappedBy: r.unwrappedBy, macValid: r.macValid };
    const target = flags['in-place'] ? file : isStdoutPath(flags.output) ? undefined : flags.output;
    if (target !== undefined) {
      await writeOutputFile(target, r.bytes, { plaintext: true, inPlace: flags['in-place'] });
      result.output = target;
    } else if (this.jsonEnabled()) {
      Object.assign(result, plaintextFields(r.bytes));
    } else {
      await writeStdout(r.bytes);
    }
    return result;
  }
}
