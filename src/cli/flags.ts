/**
 * Flags shared by several commands, named as `sops` names them.
 */
import { Args, Flags } from '@oclif/core';
import { UsageError } from '../errors.js';
import { FILE_FORMATS, type FileFormat } from '../stores/store.js';
import { processContext, type OpsContext } from '../ops/context.js';

function formatFlag(summary: string) {
  return Flags.custom<FileFormat>({
    summary,
    options: [...FILE_FORMATS],
    helpValue: 'yaml|json|dotenv|ini|binary',
    parse: async (input) => {
      if (!(FILE_FORMATS as readonly string[]).includes(input)) throw new UsageError(`unknown format "${input}"`);
      return input as FileFormat;
    },
  })();
}

export const inputTypeFlag = () => formatFlag('File format of the input (default: from the file extension).');
export const outputTypeFlag = () => formatFlag('File format of the output (default: the input format).');

/**
 * The positional argument every command uses. oclif reads piped stdin into a missing positional
 * unless it sets `ignoreStdin` (`printf 'password: x' | sealant encrypt` printed
 * "password: x: file not found"); stdin is read only where a command asks for it.
 */
export const stringArg = Args.custom<string>({ ignoreStdin: true });

export const identityFlag = () =>
  Flags.string({
    summary:
      'age identity file to decrypt with (repeatable); SOPS_AGE_KEY, SOPS_AGE_KEY_FILE and ~/.config/sops/age/keys.txt are always read too.',
    multiple: true,
    multipleNonGreedy: true,
    helpValue: 'FILE',
    parse: async (input) => {
      if (input === '-')
        throw new UsageError('an identity is not read from standard input', {
          hint: 'use SOPS_AGE_KEY or SOPS_AGE_KEY_CMD, or name the file (a file called "-" is ./-)',
        });
      return input;
    },
  });

/** `--age` as sops takes it: comma-separated recipients, repeatable. */
export const ageRecipientsFlag = () =>
  Flags.string({
    summary: 'age recipients, comma-separated (repeatable); default $SOPS_AGE_RECIPIENTS, else the config.',
    multiple: true,
    multipleNonGreedy: true,
    helpValue: 'age1…',
  });

/**
 * `--config`, the project configuration a command reads (every command that takes one). `summary`
 * only for a command that reads a particular kind of config (`config import`, `recipients add`).
 */
export const configFlag = (
  summary = 'Config file (default: .sealant.yaml or .sops.yaml found from the current directory).',
) => Flags.string({ summary, helpValue: 'FILE' });

export const ignoreMacFlag = () =>
  Flags.boolean({
    summary: 'Decrypt even if the MAC does not match (unsafe: the file may have been tampered with).',
    default: false,
  });

/** The ops context of this process, with warnings routed to the command. */
export function contextFor(warn: (message: string) => void): OpsContext {
  return processContext(warn);
}
