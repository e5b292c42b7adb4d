/**
 * Spawns the built CLI (`node bin/run.js`, i.e. dist/ — run `npm run build` first) the way a
 * user or a CI job would, with a clean, predictable environment.
 *
 * A test file that imports this stops before its first test, with one line, when dist/ is older
 * than src/: it would test the last build, not the code being edited. Running the CLI from src/
 * (tsx) instead costs about twice the CPU per spawn, which would double `npm test`.
 */

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { refuseToRun, staleBuild } from './setup.js';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The CLI entry point. */
export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

const stale = staleBuild(ROOT);
if (stale !== undefined)
  refuseToRun(`dist/ is out of date (${stale}): run \`npm run build\` before the CLI tests (npm test builds first)`);

export interface RunCliOptions {
  /** Extra environment (merged over the sanitised parent environment; `undefined` deletes). */
  env?: Record<string, string | undefined>;
  /** Working directory (default: the repository root). */
  cwd?: string;
  /** Data for stdin (default: stdin closed). */
  input?: string | Uint8Array;
  /** Kill the child after this many ms (default 30 s). */
  timeoutMs?: number;
  /** Script to run instead of bin/run.js (e.g. a fixture under tsx). */
  script?: string;
  /** Extra node options before the script (e.g. `['--import', 'tsx']`). */
  nodeArgs?: string[];
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** stdout exactly as written (binary output is not text). */
  stdoutBytes?: Buffer;
  stderr: string;
}

/** Variables from the developer's shell that would change what the CLI does. */
const SCRUB = /^(SOPS_|SEALANT_|AWS_|DEBUG$|NO_COLOR$|FORCE_COLOR$|XDG_CONFIG_HOME$|NODE_OPTIONS$)/;

/**
 * Runs `node bin/run.js ...args` and collects its output.
 *
 * `HOME` points at a non-existent directory unless given, so the real `~/.config/sops/age/keys.txt`
 * never leaks into a test.
 */
export function runCli(args: readonly string[], opts: RunCliOptions = {}): Promise<CliResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !SCRUB.test(k)) env[k] = v;
  env.HOME = '/nonexistent-sealant-test-home';
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.script ?? BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({
        code,
        signal,
        stdout: stdoutBytes.toString('utf8'),
        stdoutBytes,
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.on('error', () => undefined); // the CLI may exit without reading stdin
    child.stdin.end(opts.input ?? '');
  });
}

/** Parses stdout as JSON, failing with the raw output (easier to debug than a SyntaxError). */
export function parseJson(stdout: string): unknown {
  try {
    return JSON.parse(stdout) as unknown;
  } catch {
    throw new Error(`stdout is not JSON:\n${stdout}`);
  }
}
