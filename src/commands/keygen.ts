import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

import { Flags } from '@oclif/core';
import { generateHybridIdentity, generateX25519Identity, identityToRecipient } from 'age-encryption';

import { BaseCommand } from '../cli/base.js';
import { writeOutputFile, writeStdout } from '../cli/output.js';
import { isStdoutPath } from '../cli/stdio.js';
import { WriteError } from '../errors.js';

/** `sealant keygen --json` result (public API). */
export interface KeygenResult {
  /** The public key to encrypt to (`age1…`, or `age1pq1…` with `--pq`). */
  recipient: string;
  /** The file the identity was written to, when `--output` was given. */
  output?: string;
  /** The secret key, only when stdout is its destination (no `--output`). */
  identity?: string;
}

/** RFC 3339 in local time with offset, seconds precision — Go's `time.RFC3339`, as age-keygen writes. */
export function rfc3339Local(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const zone =
    off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${zone}`;
}

export default class Keygen extends BaseCommand<KeygenResult> {
  static override summary = 'Generate an age identity (like age-keygen).';

  static override description = [
    'Writes a new age identity in age-keygen\'s format: a "# created" line, a "# public key" line and the AGE-SECRET-KEY line. The public key (the recipient to put in .sops.yaml) is also printed to stderr.',
    'With --output the file is created with mode 0600 (missing directories are created 0700) and an existing file is never overwritten. The identity works with sops (SOPS_AGE_KEY_FILE) and with the age CLI (age -d -i FILE).',
  ].join('\n\n');

  static override examples = [
    {
      description: 'Create the default key file sops reads',
      command: '<%= config.bin %> <%= command.id %> --output ~/.config/sops/age/keys.txt',
    },
    { description: 'Print a new identity to stdout', command: '<%= config.bin %> <%= command.id %>' },
    {
      description: 'Generate a post-quantum hybrid identity',
      command: '<%= config.bin %> <%= command.id %> --pq --output pq-key.txt',
    },
    {
      description: 'Get the recipient as JSON',
      command: '<%= config.bin %> <%= command.id %> --output key.txt --json',
    },
  ];

  static override flags = {
    output: Flags.string({
      char: 'o',
      summary: 'Write the identity to FILE (mode 0600; refuses to overwrite). "-" = stdout.',
      helpValue: 'FILE',
    }),
    pq: Flags.boolean({
      summary: 'Generate a post-quantum hybrid identity (ML-KEM-768 + X25519).',
      default: false,
    }),
  };

  async run(): Promise<KeygenResult> {
    const { flags } = await this.parse(Keygen);
    const identity = flags.pq ? await generateHybridIdentity() : await generateX25519Identity();
    const recipient = await identityToRecipient(identity);
    const text = `# created: ${rfc3339Local(new Date())}\n# public key: ${recipient}\n${identity}\n`;

    if (flags.output !== undefined && !isStdoutPath(flags.output)) {
      // `keygen -o ~/.config/sops/age/keys.txt` on a new machine: create the key's directories,
      // private to the user as a key directory should be (existing ones are left as they are).
      try {
        await mkdir(dirname(flags.output), { recursive: true, mode: 0o700 });
      } catch (e) {
        throw new WriteError(
          `cannot create the directory for the key file (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
          { file: flags.output },
        );
      }
      await writeOutputFile(flags.output, text, { plaintext: true, exclusive: true });
      if (!this.jsonEnabled()) process.stderr.write(`Public key: ${recipient}\n`);
      return { recipient, output: flags.output };
    }

    // Under --json stdout carries the envelope, so the identity travels inside it instead.
    if (this.jsonEnabled()) return { recipient, identity };
    await writeStdout(text);
    // age-keygen skips this when the key goes to a terminal: the public key is on screen already.
    if (process.stdout.isTTY !== true) process.stderr.write(`Public key: ${recipient}\n`);
    return { recipient };
  }
}
