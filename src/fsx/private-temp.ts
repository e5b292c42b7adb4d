/**
 * Private temp directories for plaintext that must touch the disk (e.g. the file an editor
 * opens). The directory is 0700 and is removed when the callback ends, when it throws, and when
 * the process is interrupted (SIGINT/SIGTERM) or exits while one is still live.
 */

import { rmSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signalExitStatus } from '../errors.js';

/** Directories created by {@link withPrivateTempDir} and not yet removed. */
const live = new Set<string>();

/** The signals that remove live directories before the process dies of them. */
const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

let installed = false;

function removeAllSync(): void {
  for (const dir of live) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Best effort while dying: one stuck directory must not keep the others.
    }
    live.delete(dir);
  }
}

function onSignal(signal: NodeJS.Signals): void {
  removeAllSync();
  // Having a listener disables Node's default "terminate on signal", so exit ourselves with the
  // status a shell would have reported had the default handler run.
  process.exit(signalExitStatus(signal));
}

function onExit(): void {
  removeAllSync();
}

// Handlers are installed only while a directory is live, so the rest of the time the process keeps
// Node's default signal behaviour and other code's handlers run alone.
function install(): void {
  if (installed) return;
  installed = true;
  for (const sig of SIGNALS) {
    if (process.platform === 'win32' && sig === 'SIGHUP') continue;
    process.on(sig, onSignal);
  }
  process.on('exit', onExit);
}

function uninstall(): void {
  if (!installed || live.size > 0) return;
  installed = false;
  for (const sig of SIGNALS) process.off(sig, onSignal);
  process.off('exit', onExit);
}

/** Where {@link withPrivateTempDir} creates its directory. */
export interface PrivateTempDirOptions {
  /** The parent directory (default `os.tmpdir()`); atomic writes stage next to their target. */
  parent?: string;
  /** The name before mkdtemp's six random characters (default `sealant-`). */
  prefix?: string;
}

/**
 * Runs `fn` with a fresh directory (under `os.tmpdir()` unless `opts.parent` says otherwise)
 * that only the current user can read (mode 0700), and removes the directory and everything in
 * it afterwards — on success, on throw, and on SIGINT/SIGTERM/SIGHUP (the process then exits
 * with 130/143/129).
 *
 * @returns what `fn` returns.
 * @throws whatever `fn` throws (after the directory is removed), or the `mkdtemp` error if the
 *   directory cannot be created.
 */
export async function withPrivateTempDir<T>(
  fn: (dir: string) => Promise<T>,
  opts: PrivateTempDirOptions = {},
): Promise<T> {
  const dir = await mkdtemp(join(opts.parent ?? tmpdir(), opts.prefix ?? 'sealant-'));
  live.add(dir);
  install();
  try {
    // mkdtemp already uses 0700 on POSIX; chmod makes it explicit and independent of the platform default.
    await chmod(dir, 0o700);
    return await fn(dir);
  } finally {
    // On failure the directory stays registered so the exit handler tries once more.
    const removed = await rm(dir, { recursive: true, force: true }).then(
      () => true,
      () => false,
    );
    if (removed) live.delete(dir);
    uninstall();
  }
}

/** The private temp directories currently alive (for diagnostics and tests). */
export function livePrivateTempDirs(): readonly string[] {
  return [...live];
}
