/**
 * Where age identities come from. This is the only module that looks at `SOPS_AGE_KEY*` and the
 * default key file; everything it touches (environment, home directory, platform, file reads,
 * the key command) is passed in, so tests never depend on the real HOME.
 *
 * Sources, all combined as `sops` does (`age/keysource.go` `loadIdentities`):
 * `--identity FILE` (repeatable), `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY_CMD`, and
 * `<user config dir>/sops/age/keys.txt`.
 */

import { spawn } from 'node:child_process';
import { posix, win32 } from 'node:path';

import { identityToRecipient } from 'age-encryption';

import { KeyFormatError, ReadError } from '../errors.js';
import type { AgeIdentity } from '../keys/age.js';

/** Runs `command` through the platform shell and resolves with its stdout. */
export type RunCommand = (command: string, env: Readonly<Record<string, string | undefined>>) => Promise<string>;

/** Inputs of {@link loadAgeIdentities}: the process's view of the world, injected. */
export interface LoadAgeIdentitiesOptions {
  /** Environment variables (normally `process.env`). */
  env: Readonly<Record<string, string | undefined>>;
  /** Files named with `--identity`, in command-line order. */
  identityFiles?: readonly string[];
  /** The user's home directory (normally `os.homedir()`). */
  homeDir: string;
  /** Normally `process.platform`; chooses the default key file location and path syntax. */
  platform: NodeJS.Platform;
  /** Reads a UTF-8 file; must reject with a Node-style error carrying `code` (`ENOENT`…). */
  readFile: (path: string) => Promise<string>;
  /** Runs `SOPS_AGE_KEY_CMD`; defaults to {@link runShellCommand}. */
  runCommand?: RunCommand;
  /** Receives notes about identities that were skipped (e.g. age plugin identities). */
  warn?: (message: string) => void;
  /**
   * When given, a source sops reads on its own (`SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`,
   * `SOPS_AGE_KEY_CMD`, the default key file) that cannot be read or parsed is reported here
   * and skipped, as sops records the error and goes on with the other master keys (a KMS key
   * may still open the file). `--identity` files always throw: the user named them.
   */
  sourceError?: (error: ReadError | KeyFormatError) => void;
}

/** The relative location of the default key file inside the user config directory. */
const DEFAULT_KEY_PATH = ['sops', 'age', 'keys.txt'] as const;

/**
 * The default key file `sops` reads, or undefined when the config directory cannot be
 * determined (e.g. `%AppData%` unset on Windows).
 *
 * Linux and others: `$XDG_CONFIG_HOME` or `~/.config`. macOS: `$XDG_CONFIG_HOME` if set, else
 * `~/Library/Application Support` (sops checks XDG first there, unlike Go's `os.UserConfigDir`).
 * Windows: `%AppData%`.
 */
export function defaultAgeKeyFile(
  env: Readonly<Record<string, string | undefined>>,
  homeDir: string,
  platform: NodeJS.Platform,
): string | undefined {
  const path = platform === 'win32' ? win32 : posix;
  let configDir: string | undefined;
  const xdg = env.XDG_CONFIG_HOME;
  if (platform === 'win32') {
    configDir = nonEmpty(env.AppData ?? env.APPDATA);
  } else if (platform === 'darwin') {
    configDir = nonEmpty(xdg) ?? (homeDir === '' ? undefined : path.join(homeDir, 'Library', 'Application Support'));
  } else {
    // Go's os.UserConfigDir ignores a relative XDG_CONFIG_HOME (it errors); fall back to ~/.config.
    const x = nonEmpty(xdg);
    configDir = x !== undefined && path.isAbsolute(x) ? x : homeDir === '' ? undefined : path.join(homeDir, '.config');
  }
  return configDir === undefined ? undefined : path.join(configDir, ...DEFAULT_KEY_PATH);
}

/**
 * Collects every age identity available to this run, in source order (`--identity` files,
 * `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY_CMD`, default key file), without duplicates
 * (the first source naming a key wins).
 *
 * Lines that are empty or start with `#` are ignored; other lines hold whitespace-separated
 * `AGE-SECRET-KEY-1…` or `AGE-SECRET-KEY-PQ-1…` identities. `AGE-PLUGIN-…` identities are skipped
 * with a warning (plugins are not supported). A missing default key file is not an error.
 *
 * @returns possibly empty; the caller decides whether no identity is an error.
 * @throws {ReadError} if an `--identity` file or `SOPS_AGE_KEY_FILE` cannot be read, or
 *   `SOPS_AGE_KEY_CMD` fails. Names the file or variable, never key material. With
 *   `sourceError`, only for `--identity` files.
 * @throws {KeyFormatError} if a source holds a malformed line (names the source and the line
 *   number), or is a passphrase-encrypted age file. With `sourceError`, only for `--identity`.
 */
export async function loadAgeIdentities(opts: LoadAgeIdentitiesOptions): Promise<AgeIdentity[]> {
  const { env } = opts;
  const out: AgeIdentity[] = [];
  const seen = new Set<string>();
  const add = async (text: string, source: string, file?: string): Promise<void> => {
    for (const identity of await parseIdentityText(text, source, file, opts.warn)) {
      if (seen.has(identity.identity)) continue;
      seen.add(identity.identity);
      out.push(identity);
    }
  };

  for (const file of opts.identityFiles ?? []) {
    await add(await readExplicit(opts.readFile, file, '--identity'), `--identity=${file}`, file);
  }

  /** Runs one environment source, handing its error to `sourceError` when the caller wants that. */
  const fromEnvironment = async (load: () => Promise<void>): Promise<void> => {
    try {
      await load();
    } catch (err) {
      if (opts.sourceError === undefined || !(err instanceof ReadError || err instanceof KeyFormatError)) throw err;
      opts.sourceError(err);
    }
  };

  const key = env.SOPS_AGE_KEY;
  if (key !== undefined && key !== '') await fromEnvironment(() => add(key, 'SOPS_AGE_KEY'));

  const keyFile = env.SOPS_AGE_KEY_FILE;
  if (keyFile !== undefined && keyFile !== '') {
    await fromEnvironment(async () =>
      add(await readExplicit(opts.readFile, keyFile, 'SOPS_AGE_KEY_FILE'), `SOPS_AGE_KEY_FILE=${keyFile}`, keyFile),
    );
  }

  const keyCmd = env.SOPS_AGE_KEY_CMD;
  if (keyCmd !== undefined && keyCmd !== '') {
    await fromEnvironment(async () => {
      let stdout: string;
      try {
        stdout = await (opts.runCommand ?? runShellCommand)(keyCmd, env);
      } catch (err) {
        throw new ReadError('SOPS_AGE_KEY_CMD failed', {
          cause: err,
          hint: 'run the command by hand; it must print age identities (AGE-SECRET-KEY-1…) on stdout',
        });
      }
      await add(stdout, 'SOPS_AGE_KEY_CMD');
    });
  }

  const def = defaultAgeKeyFile(env, opts.homeDir, opts.platform);
  if (def !== undefined) {
    await fromEnvironment(async () => {
      let text: string | undefined;
      try {
        text = await opts.readFile(def);
      } catch (err) {
        // Absent is the normal case for users who configure keys through the environment.
        if (!isErrno(err, 'ENOENT') && !isErrno(err, 'ENOTDIR')) throw readError(def, err, 'default key file');
      }
      if (text !== undefined) await add(text, `default=${def}`, def);
    });
  }
  return out;
}

async function readExplicit(readFile: (p: string) => Promise<string>, file: string, via: string): Promise<string> {
  try {
    return await readFile(file);
  } catch (err) {
    throw readError(file, err, via);
  }
}

function readError(file: string, err: unknown, via: string): ReadError {
  const code = isErrno(err, 'ENOENT')
    ? 'no such file'
    : isErrno(err, 'EACCES')
      ? 'permission denied'
      : isErrno(err, 'EISDIR')
        ? 'is a directory'
        : 'cannot read';
  return new ReadError(`cannot read age identity file (${via}): ${code}`, { file, cause: err });
}

const ENCRYPTED_HEADERS = ['age-encryption.org/v1', '-----BEGIN AGE ENCRYPTED FILE-----'];

/** Parses one source's text; `source` labels the identities, `file` goes into errors. */
async function parseIdentityText(
  text: string,
  source: string,
  file: string | undefined,
  warn?: (m: string) => void,
): Promise<AgeIdentity[]> {
  const where = (line: number) => (file !== undefined ? { file, line } : { line });
  // With a file, toOneLine() already prints `file:line:`; env/command sources name themselves.
  const label = file !== undefined ? '' : `${source}: `;
  const at = (line: number) => (file !== undefined ? '' : `${label}line ${line}: `);
  const firstLine =
    text
      .replace(/^\uFEFF/, '')
      .split(/\r?\n/, 1)[0]
      ?.trim() ?? '';
  if (ENCRYPTED_HEADERS.includes(firstLine)) {
    throw new KeyFormatError(`${label}passphrase-encrypted identity files are not supported`, {
      ...(file !== undefined ? { file } : {}),
      hint: 'decrypt it with `age -d` into a private file, or use SOPS_AGE_KEY_CMD to supply the key',
    });
  }
  const out: AgeIdentity[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    for (const token of line.split(/\s+/)) {
      if (token.startsWith('AGE-PLUGIN-')) {
        warn?.(`${file ?? source}:${i + 1}: skipping age plugin identity (plugins are not supported)`);
        continue;
      }
      // Messages name the line, never the token: a malformed line may still be most of a secret key.
      if (!token.startsWith('AGE-SECRET-KEY-1') && !token.startsWith('AGE-SECRET-KEY-PQ-1')) {
        throw new KeyFormatError(`${at(i + 1)}not an age identity`, {
          ...where(i + 1),
          hint: 'identity lines start with AGE-SECRET-KEY-1 or AGE-SECRET-KEY-PQ-1; comments start with #',
        });
      }
      let recipient: string;
      try {
        recipient = await identityToRecipient(token);
      } catch {
        throw new KeyFormatError(`${at(i + 1)}malformed age identity`, { ...where(i + 1) });
      }
      out.push({ identity: token, recipient, source });
    }
  }
  return out;
}

/**
 * Default {@link RunCommand}: runs `command` through the system shell (`/bin/sh -c`, `cmd.exe`
 * on Windows), with stdin and stderr on the terminal so the command may prompt, and resolves
 * with its stdout.
 *
 * Unlike sops, which splits the command shlex-style and runs it without a shell, pipes and `~`
 * work here; plain commands behave the same.
 *
 * @throws Error if the command cannot start or exits non-zero (the message holds only the exit status).
 */
export function runShellCommand(command: string, env: Readonly<Record<string, string | undefined>>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, { shell: true, env: env as NodeJS.ProcessEnv, stdio: ['inherit', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(Buffer.concat(chunks).toString('utf8'));
      else reject(new Error(signal !== null ? `killed by ${signal}` : `exit status ${code ?? 'unknown'}`));
    });
  });
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === code;
}
