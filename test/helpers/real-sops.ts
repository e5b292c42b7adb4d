/**
 * The real getsops/sops 3.9.2 library as a test oracle: `../shared/tools/real-sops/real-sops.mjs`
 * (see its README) runs sops's own `decrypt.Data` — data-key unwrap for age, PGP (through
 * `gpg`) and AWS KMS, every value, the MAC — in a Go binary that talks only to 127.0.0.1.
 */
import { pathToFileURL } from 'node:url';
import type { FileFormat } from '../../src/stores/store.js';
import { sharedPath } from './shared.js';

/**
 * Where the harness is: in shared/ beside the repository, as the interop vectors. Without
 * shared/ the test file stops with one line (see ./shared.ts), as every suite that needs it.
 */
export const REAL_SOPS_HARNESS = sharedPath('tools', 'real-sops', 'real-sops.mjs');

/** What `realSopsDecrypt` reports (the subset these tests read). */
export interface RealSopsResult {
  /** Real sops decrypted the file and its MAC matched. */
  ok: boolean;
  /** json/yaml: the decrypted document (flattened unless `flatten: false`); dotenv: KEY -> value. */
  value?: unknown;
  /** The decrypted bytes (binary: exactly the plaintext). */
  secret?: Buffer;
  /** False for INI: sops decrypted and checked the MAC, but the harness cannot return values. */
  valuesReturned: boolean;
  /** sops's error when it refused the file (null when the failure came after decryption). */
  sopsError?: string | null;
  reason?: string;
  /** sops's own warnings, e.g. an encrypted comment that did not decrypt. */
  warnings: string[];
}

interface Harness {
  realSopsDecrypt(
    content: Buffer,
    format: FileFormat,
    opts: { env: Record<string, string>; flatten?: boolean },
  ): Promise<RealSopsResult>;
  ensureBootstrap(): string;
}

const harness = (await import(pathToFileURL(REAL_SOPS_HARNESS).href)) as Harness;

/**
 * Why the suite cannot run, or undefined when it can: the harness's own `ensureBootstrap()`
 * cannot get the binary (fetch or checksum failure; a missing shared/ already stopped the file). Nothing else — no environment variable — skips; any later failure is a
 * test failure. The path is resolved once, before any test changes HOME (the default cache
 * lives under it), and fetched here so concurrent decryptions never race to download it.
 */
export const REAL_SOPS_UNAVAILABLE: string | undefined = (() => {
  try {
    process.env.REAL_SOPS_BOOTSTRAP = harness.ensureBootstrap();
    return undefined;
  } catch (e) {
    return `real sops 3.9.2 cannot be had here (${(e instanceof Error ? e.message : String(e)).split('\n')[0]})`;
  }
})();

/** `{ skip }` for a test or suite that needs real sops: false, or the one line saying why not. */
export const REAL_SOPS_SKIP: string | false = REAL_SOPS_UNAVAILABLE ?? false;

// One line per test file that loads this helper, whatever number of tests it skips.
if (REAL_SOPS_UNAVAILABLE !== undefined) console.log(`real sops checks skipped: ${REAL_SOPS_UNAVAILABLE}`);

/**
 * The dummy AWS credentials the harness hands the sops binary (real-sops.mjs): a KMS-protocol
 * server in a test must accept them, and sealant signs with them too.
 */
export const HARNESS_AWS_CREDENTIALS = {
  accessKeyId: 'AKIAREALSOPSHARNESS1',
  secretAccessKey: 'real-sops-harness-dummy-secret-access-key',
  sessionToken: 'real-sops-harness-dummy-session-token',
};

// Each decryption is a Go process plus a loopback server (0.3–0.6 s); a few at a time keep a
// shared CI machine responsive.
const MAX_PARALLEL = 3;
let running = 0;
const waiting: (() => void)[] = [];

async function bounded<T>(fn: () => Promise<T>): Promise<T> {
  // A finished call hands its slot straight to the next waiter, so the bound holds exactly.
  if (running >= MAX_PARALLEL) await new Promise<void>((r) => waiting.push(r));
  else running++;
  try {
    return await fn();
  } finally {
    const next = waiting.shift();
    if (next !== undefined) next();
    else running--;
  }
}

/**
 * Real sops decrypts `content` as `format`, with only the keys named in `env`
 * (`SOPS_AGE_KEY_FILE`, `GNUPGHOME`, `AWS_ENDPOINT_URL_KMS`, …). json/yaml come back as the
 * nested tree, or with `flatten` as `a.b[0]` keys. Throws when the harness itself fails
 * (timeout, crash) or is unavailable (guard the test with {@link REAL_SOPS_SKIP}).
 */
export function realSops(
  content: string | Uint8Array,
  format: FileFormat,
  env: Record<string, string>,
  opts: { flatten?: boolean } = {},
): Promise<RealSopsResult> {
  if (harness === undefined) throw new Error(REAL_SOPS_UNAVAILABLE);
  const h = harness;
  return bounded(() =>
    h.realSopsDecrypt(typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content), format, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      flatten: opts.flatten ?? false,
    }),
  );
}
