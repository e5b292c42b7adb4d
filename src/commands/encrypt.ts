import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import {
  ageRecipientsFlag,
  configFlag,
  contextFor,
  identityFlag,
  inputTypeFlag,
  outputTypeFlag,
  stringArg,
} from '../cli/flags.js';
import { writeOutputFile, writeStdout } from '../cli/output.js';
import { isStdinFile, isStdoutPath, readStdinInput, refuseInPlaceStdin } from '../cli/stdio.js';
import {
  encryptFile,
  encryptOver,
  encryptSettings,
  encryptText,
  cryptRuleFromFlags,
  existingEncrypted,
  parsePgpList,
  parseAgeRecipientList,
  parseKmsList,
} from '../ops/encrypt.js';
import { keySources } from '../ops/context.js';
import { inFile, readBytes } from '../ops/read.js';

/** `sealant encrypt --json` result (public API). */
export interface EncryptCommandResult {
  file: string;
  format: string;
  recipients: string[];
  /** The environment whose recipients were used (when taken from the config). */
  environment?: string;
  output?: string;
  /** The encrypted text, when it is not written to a file. */
  encrypted?: string;
  /** --output already held this content encrypted: nothing written. */
  unchanged?: boolean;
}

export default class Encrypt extends BaseCommand<EncryptCommandResult> {
  static override summary = 'Encrypt a plaintext file into a SOPS file.';
  static override description =
    "Every value is encrypted with AES-256-GCM under a new data key; keys, comments' positions and order stay readable. The data key is wrapped for each age recipient. By default keys ending in _unencrypted stay in clear (as in sops); --encrypted-regex and friends choose otherwise. Recipients come from --age or SOPS_AGE_RECIPIENTS, else from the file's environment in .sealant.yaml / .sops.yaml. When --output names an existing encrypted version of the file, its data key and recipients are kept and every unchanged value keeps its ciphertext (so the git diff shows only what changed); --fresh starts over.";
  static override examples = [
    {
      description: 'Encrypt in place for two recipients',
      command: '<%= config.bin %> <%= command.id %> --age age1…,age1… --in-place secrets.yaml',
    },
    {
      description: 'Encrypt only data/stringData of a Kubernetes Secret',
      command:
        "<%= config.bin %> <%= command.id %> --age age1… --encrypted-regex '^(data|stringData)$' secret.yaml > secret.enc.yaml",
    },
    {
      description: 'Encrypt a dotenv file to a new file',
      command: '<%= config.bin %> <%= command.id %> --age age1… --output app.enc.env app.env',
    },
    {
      description: 'Re-encrypt an edited plaintext over its encrypted version (minimal diff)',
      command: '<%= config.bin %> <%= command.id %> --output secrets.enc.yaml secrets.yaml',
    },
    {
      description: 'Encrypt what a pipe brings (stdin has no name: say its format)',
      command:
        "kubectl create secret generic db --from-literal=password=… --dry-run=client -o yaml | <%= config.bin %> <%= command.id %> --age age1… --input-type yaml --encrypted-regex '^(data|stringData)$'",
    },
  ];
  static override args = {
    file: stringArg({ description: 'Plaintext file (omitted or -: standard input, with --input-type)' }),
  };
  static override flags = {
    age: ageRecipientsFlag(),
    kms: Flags.string({
      summary: 'AWS KMS key ARNs, comma-separated, each optionally +ROLE_ARN (repeatable).',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: 'arn:aws:kms:…',
    }),
    pgp: Flags.string({
      summary: 'PGP fingerprints, comma-separated (repeatable).',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: 'FPR',
    }),
    'encryption-context': Flags.string({ summary: 'KMS encryption context for --kms keys: key:value,key2:value2.' }),
    'aws-profile': Flags.string({ summary: 'AWS profile for --kms keys (stored as aws_profile).' }),
    config: configFlag(),
    output: Flags.string({
      summary: 'Write to FILE instead of stdout ("-" = stdout).',
      helpValue: 'FILE',
      exclusive: ['in-place'],
    }),
    'in-place': Flags.boolean({ char: 'i', summary: 'Replace the file with its encrypted version.', default: false }),
    'input-type': inputTypeFlag(),
    'output-type': outputTypeFlag(),
    'unencrypted-suffix': Flags.string({ summary: 'Keys ending with this stay in clear (default _unencrypted).' }),
    'encrypted-suffix': Flags.string({ summary: 'Only keys ending with this are encrypted.' }),
    'unencrypted-regex': Flags.string({ summary: 'Keys matching this stay in clear.' }),
    'encrypted-regex': Flags.string({ summary: 'Only keys matching this are encrypted.' }),
    'unencrypted-comment-regex': Flags.string({ summary: 'Values after a comment matching this stay in clear.' }),
    'encrypted-comment-regex': Flags.string({ summary: 'Only values after a comment matching this are encrypted.' }),
    'mac-only-encrypted': Flags.boolean({ summary: 'Compute the MAC over encrypted values only.', default: false }),
    fresh: Flags.boolean({
      summary: 'With --output: ignore an existing encrypted version there (new data key, every ciphertext new).',
      default: false,
    }),
    identity: identityFlag(),
  };

  async run(): Promise<EncryptCommandResult> {
    const { args, flags } = await this.parse(Encrypt);
    const fromStdin = isStdinFile(args.file);
    refuseInPlaceStdin(flags['in-place'], fromStdin);
    const ctx = contextFor((m) => this.warnUser(m));
    const input = fromStdin ? await readStdinInput(flags['input-type']) : undefined;
    const file = input?.file ?? args.file!;
    const output = isStdoutPath(flags.output) ? undefined : flags.output;
    // An encrypted version already at --output: keep its data key and every unchanged ciphertext.
    const previous = output !== undefined && !flags.fresh ? await existingEncrypted(output) : undefined;
    if (previous !== undefined && output !== undefined) {
      const over = await inFile(file, async () =>
        encryptOver(input?.bytes ?? (await readBytes(file)), file, previous.text, output, ctx, {
          sources: await keySources(ctx, { identityFiles: flags.identity ?? [] }),
          inputType: flags['input-type'],
          ...(flags.config === undefined ? {} : { configPath: flags.config }),
        }),
      );
      if (over === undefined) {
        if (!this.jsonEnabled()) this.logToStderr(`${output} already holds this content; not changed`);
        return { file, format: previous.format, recipients: [], output, unchanged: true };
      }
      await writeOutputFile(output, over.text, { plaintext: false });
      return { file, format: over.format, recipients: over.recipients, output };
    }
    const rule = cryptRuleFromFlags({
      unencrypted_suffix: flags['unencrypted-suffix'],
      encrypted_suffix: flags['encrypted-suffix'],
      unencrypted_regex: flags['unencrypted-regex'],
      encrypted_regex: flags['encrypted-regex'],
      unencrypted_comment_regex: flags['unencrypted-comment-regex'],
      encrypted_comment_regex: flags['encrypted-comment-regex'],
    });
    const settings = await encryptSettings(input === undefined ? file : undefined, ctx, {
      age: parseAgeRecipientList(flags.age ?? []),
      kms: parseKmsList(flags.kms ?? [], flags['encryption-context'], flags['aws-profile']),
      pgp: parsePgpList(flags.pgp ?? []),
      ...(rule === undefined ? {} : { rule }),
      macOnlyEncrypted: flags['mac-only-encrypted'],
      ...(flags.config === undefined ? {} : { configPath: flags.config }),
    });
    const opts = { ...settings, inputType: flags['input-type'], outputType: flags['output-type'] };
    const r =
      input === undefined
        ? await encryptFile(file, ctx, opts)
        : await inFile(file, () => encryptText(input.bytes, file, ctx, opts));
    const result: EncryptCommandResult = { file, format: r.format, recipients: r.recipients };
    if (settings.environment !== undefined) result.environment = settings.environment;
    const target = flags['in-place'] ? file : output;
    if (target !== undefined) {
      await writeOutputFile(target, r.text, { plaintext: false, inPlace: flags['in-place'] });
      result.output = target;
    } else if (this.jsonEnabled()) {
      result.encrypted = r.text;
    } else {
      await writeStdout(r.text);
    }
    return result;
  }
}
