/**
 * What `-` means on the command line, the same in every command: standard input where a command
 * reads a file, standard output where it writes one. Commands that write their input back (in
 * place) cannot take stdin and say so, instead of creating or reading a file called `-`.
 */
import { ConflictingParametersError, UsageError } from '../errors.js';
import { readStdin, readStdinText, STDIN_NAME, STDIO_PATH } from '../fsx/stdin.js';
import type { FileFormat } from '../stores/store.js';

export { readStdinText, STDIN_NAME, STDIO_PATH };

/** An input FILE argument that means stdin: omitted (as sops reads it then) or `-`. */
export function isStdinFile(file: string | undefined): file is typeof STDIO_PATH | undefined {
  return file === undefined || file === STDIO_PATH;
}

/** An output path that means stdout. */
export function isStdoutPath(path: string | undefined): path is typeof STDIO_PATH {
  return path === STDIO_PATH;
}

/**
 * For commands that change their files in place (`set`, `rotate`, …): stdin has nowhere to be
 * written back.
 * @throws UsageError when one of `files` is `-`.
 */
export function refuseStdinFiles(files: readonly (string | undefined)[], command: string): void {
  if (files.includes(STDIO_PATH))
    throw new UsageError(`${command} works on files by their path; it cannot read standard input ("-")`, {
      hint: 'name the file (a file called "-" is ./-)',
    });
}

/** @throws ConflictingParametersError for `--in-place` with stdin, with sops's exit code 8. */
export function refuseInPlaceStdin(inPlace: boolean, fromStdin: boolean): void {
  if (inPlace && fromStdin)
    throw new ConflictingParametersError('cannot use --in-place when reading from standard input', {
      hint: 'name the file to change in place',
    });
}

/** The input file read from stdin: its bytes (text stores decode them strictly), the name messages give it, and its format. */
export interface StdinInput {
  bytes: Buffer;
  file: typeof STDIN_NAME;
  format: FileFormat;
}

/**
 * Reads the input file from stdin. There is no file name to tell its format by, so
 * `--input-type` is required (sops would silently take it as binary).
 * @throws UsageError without `inputType`, or for a terminal.
 */
export async function readStdinInput(inputType: FileFormat | undefined): Promise<StdinInput> {
  if (inputType === undefined)
    throw new UsageError('reading standard input needs --input-type (there is no file name to tell the format by)', {
      hint: 'e.g. --input-type yaml',
    });
  return { bytes: await readStdin('the input file'), file: STDIN_NAME, format: inputType };
}

/**
 * Where `--audit-log` sends the audit line: `-` is stdout, allowed only when stdout carries
 * nothing else (`busy` names what it carries).
 * @throws UsageError for `-` while stdout is busy.
 */
export function auditStream(
  auditLog: string | undefined,
  busy: string | undefined,
): { auditLog?: string; stream: NodeJS.WritableStream } {
  if (!isStdoutPath(auditLog)) return { ...(auditLog === undefined ? {} : { auditLog }), stream: process.stderr };
  if (busy !== undefined)
    throw new UsageError(`--audit-log - would mix the audit line into ${busy} on standard output`, {
      hint: 'leave --audit-log out (the line goes to stderr) or name a file',
    });
  return { stream: process.stdout };
}
