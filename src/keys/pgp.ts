/**
 * PGP master keys through the `gpg` binary, as SOPS falls back to it: going through gpg (rather
 * than an OpenPGP library) is what makes gpg-agent, passphrase caching, pinentry and smartcards
 * (YubiKey/OpenPGP card) work, and keeps the user's keyring the single source of truth.
 *
 * The data key only ever travels over gpg's stdin/stdout: never a temporary file, never argv.
 */
import { spawn } from 'node:child_process';
import { KeyFormatError, PgpError } from '../errors.js';
import { formatLastModified, type PgpStanza } from '../format/metadata.js';
import type { PgpKeySource } from './datakey.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface GpgKeySourceOptions {
  /**
   * Environment of the gpg child process (the caller's, never read from `process.env` here):
   * `SOPS_GPG_EXEC` picks the binary, `GNUPGHOME` the keyring; `GPG_TTY`, `DISPLAY`, `HOME`
   * and `PATH` matter to gpg-agent and pinentry, so the whole map is passed on.
   */
  env: Env;
  /** Clock for `created_at` (defaults to the system clock). */
  now?: () => Date;
}

/**
 * A data key is 32 bytes and a Shamir share 33; anything far larger is a crafted message
 * (e.g. a compression bomb), so gpg is stopped instead of buffering it.
 */
const MAX_STDOUT = 64 * 1024;
const MAX_STDERR = 64 * 1024;

/** Flags shared by every call: never prompt on gpg's own terminal (pinentry via the agent still works). */
const BATCH = ['--batch', '--no-tty', '--quiet'];

// Lengths gpg reads as a key ID (16) or a v4 (40) / v5 (64) fingerprint. Any other hex string
// would be taken by gpg as a user-ID substring search, which could pick an unintended key.
const FINGERPRINT_LENGTHS = new Set([16, 40, 64]);

/**
 * Normalises a PGP fingerprint as given on the command line or in a config file: spaces and a
 * `0x` prefix removed, upper-cased.
 * @throws KeyFormatError when it is not a 40/64-hex fingerprint or a 16-hex long key ID (short
 * 8-hex IDs are refused: they collide trivially).
 */
export function parsePgpFingerprint(value: string): string {
  const fp = value.replace(/\s+/g, '').replace(/^0x/i, '').toUpperCase();
  if (!/^[0-9A-F]+$/.test(fp) || !FINGERPRINT_LENGTHS.has(fp.length)) {
    throw new KeyFormatError(`invalid PGP fingerprint "${printable(value.trim()).slice(0, 80)}"`, {
      hint: 'use the 40-hex fingerprint shown by `gpg --list-keys --with-colons` (fpr line) or a 16-hex long key ID',
    });
  }
  return fp;
}

/**
 * A {@link PgpKeySource} running `gpg` (`SOPS_GPG_EXEC` if set, else `gpg` from `PATH`) with the
 * given environment, so `GNUPGHOME`, gpg-agent and smartcards work as they do for `sops`.
 * Its `decrypt` and `encrypt` reject with {@link PgpError} (exit 128) naming the fingerprint and
 * gpg's one-line reason; `encrypt` rejects with KeyFormatError for a malformed fingerprint.
 */
export function gpgKeySource(opts: GpgKeySourceOptions): PgpKeySource {
  const env = childEnv(opts.env);
  const bin = gpgBinary(opts.env);
  const now = opts.now ?? (() => new Date());
  return {
    decrypt: (stanza) => decryptStanza(bin, env, stanza),
    // async so a malformed fingerprint rejects like every other failure instead of throwing synchronously
    encrypt: async (fingerprint, plaintext) => encryptKey(bin, env, parsePgpFingerprint(fingerprint), plaintext, now()),
  };
}

/**
 * `SOPS_GPG_EXEC` or `gpg`. Unlike sops (which silently ignores a relative value) a bare
 * command name is honoured too, looked up in the child's `PATH`.
 */
export function gpgBinary(env: Env): string {
  const exec = env['SOPS_GPG_EXEC']?.trim();
  return exec !== undefined && exec !== '' ? exec : 'gpg';
}

async function decryptStanza(bin: string, env: NodeJS.ProcessEnv, stanza: PgpStanza): Promise<Uint8Array> {
  const fp = printable(stanza.fp).slice(0, 80);
  const r = await runGpg(bin, [...BATCH, '--decrypt'], stanza.enc, env, fp);
  if (r.code !== 0) throw failed(fp, 'decrypt', r);
  // 32 bytes (data key) or 33 (Shamir share): anything else is not a SOPS data key.
  if (r.stdout.length !== 32 && r.stdout.length !== 33) {
    throw new PgpError(`PGP key ${fp}: gpg decrypted ${r.stdout.length} bytes, not a SOPS data key`);
  }
  return new Uint8Array(r.stdout);
}

async function encryptKey(
  bin: string,
  env: NodeJS.ProcessEnv,
  fp: string,
  plaintext: Uint8Array,
  createdAt: Date,
): Promise<PgpStanza> {
  const args = [
    ...BATCH,
    '--armor',
    // The stanza must open with this key only: ignore `encrypt-to`/`default-recipient` from gpg.conf.
    '--no-encrypt-to',
    '--no-default-recipient',
    // The user named the key explicitly, so gpg's web of trust must not veto it (sops uses
    // `--trusted-key` for the same effect).
    '--trust-model',
    'always',
    '--encrypt',
    '--recipient',
    fp,
  ];
  const r = await runGpg(bin, args, plaintext, env, fp);
  if (r.code !== 0) throw failed(fp, 'encrypt', r);
  // sops trims gpg's output (go TrimSpace), so its stanzas carry no trailing newline.
  const enc = r.stdout.toString('utf8').trim();
  if (!enc.startsWith('-----BEGIN PGP MESSAGE-----') || !enc.endsWith('-----END PGP MESSAGE-----')) {
    throw new PgpError(`PGP key ${fp}: gpg did not return an armored PGP message`);
  }
  return { fp, createdAt: formatLastModified(createdAt), enc };
}

interface GpgResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  overflow: boolean;
}

/**
 * Runs gpg with `input` on stdin and collects its output.
 * @throws PgpError when the binary cannot be started (not installed, not executable).
 */
function runGpg(
  bin: string,
  args: readonly string[],
  input: string | Uint8Array,
  env: NodeJS.ProcessEnv,
  fp: string,
): Promise<GpgResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    let overflow = false;
    child.on('error', (e: NodeJS.ErrnoException) => reject(spawnError(bin, fp, e)));
    // gpg may exit before reading all of stdin (bad message, missing key): its exit status and
    // stderr say why, the EPIPE on our side adds nothing.
    child.stdin.on('error', () => {});
    child.stdout.on('data', (b: Buffer) => {
      outLen += b.length;
      if (outLen <= MAX_STDOUT) out.push(b);
      else if (!overflow) {
        overflow = true;
        child.kill();
      }
    });
    child.stderr.on('data', (b: Buffer) => {
      if (errLen < MAX_STDERR) err.push(b);
      errLen += b.length;
    });
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'), overflow }),
    );
    child.stdin.end(input);
  });
}

function spawnError(bin: string, fp: string, e: NodeJS.ErrnoException): PgpError {
  const why =
    e.code === 'ENOENT' ? 'not found' : e.code === 'EACCES' ? 'not executable' : (e.code ?? 'failed to start');
  return new PgpError(`PGP key ${fp}: cannot run gpg ("${printable(bin)}"): ${why}`, {
    hint: 'install GnuPG (Debian/Ubuntu: apt-get install gnupg) or set SOPS_GPG_EXEC to the gpg binary',
    cause: e,
  });
}

function failed(fp: string, action: 'decrypt' | 'encrypt', r: GpgResult): PgpError {
  let reason: string;
  if (r.overflow) reason = 'output too large for a data key';
  else if (r.signal !== null) reason = `gpg was killed by ${r.signal}`;
  else reason = gpgReason(r.stderr) || `gpg exited with status ${r.code}`;
  const hint =
    action === 'decrypt'
      ? 'the secret key must be in the GnuPG home in use (GNUPGHOME, else ~/.gnupg) or on a card gpg-agent can reach'
      : 'import the public key first (`gpg --import KEY.asc`), in the GnuPG home in use (GNUPGHOME, else ~/.gnupg)';
  return new PgpError(`PGP key ${fp}: gpg could not ${action} the data key: ${reason}`, { hint });
}

// Informational lines gpg prints even with --quiet; they never explain a failure.
const NOISE = /^(WARNING|Note|NOTE|encrypted with|using |keybox |.*trustdb)/;
const FAILURE =
  /fail|error|skipped|no (secret|public) key|not found|unusable|expired|revoked|invalid|bad |cancel|timeout|no such/i;

/**
 * gpg's own reason, in one line: the first stderr line that reads like a failure (gpg puts the
 * specific cause, e.g. `…: skipped: No public key`, before the generic `encryption failed`).
 * Only `gpg:` lines are used, so indented user-ID lines never appear; control characters are
 * masked so a crafted user ID cannot drive the terminal.
 */
export function gpgReason(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .filter((l) => l.startsWith('gpg: '))
    .map((l) =>
      l
        .slice(5)
        .trim()
        .replace(/^\[stdin\]: /, ''),
    );
  const relevant = lines.filter((l) => !NOISE.test(l));
  const line = relevant.find((l) => FAILURE.test(l)) ?? relevant.at(-1) ?? lines.at(-1) ?? '';
  return printable(line).slice(0, 200);
}

/** The caller's environment without unset entries (what `spawn` expects). */
function childEnv(env: Env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}
