/**
 * The shared repository (interop vectors, the real-sops harness, sops-format.md): a clone that
 * sits next to this one, as `../shared` (CI clones both side by side).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { refuseToRun } from './setup.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Where the shared repository is: `../shared`, or `shared/` inside the repository. */
export const SHARED_DIR: string | undefined = [resolve(ROOT, '../shared'), resolve(ROOT, 'shared')].find((p) =>
  existsSync(p),
);

/** The message a test file stops with when the shared repository is missing. */
export const NO_SHARED = `../shared not found: clone the shared repository next to this one, as ${resolve(ROOT, '../shared')} (see README, "Developing")`;

/**
 * The path of `parts` inside the shared repository. When the repository is not there, this test
 * file stops with one line ({@link NO_SHARED}) instead of an ENOENT stack trace.
 */
export function sharedPath(...parts: string[]): string {
  if (SHARED_DIR === undefined) refuseToRun(NO_SHARED);
  return join(SHARED_DIR, ...parts);
}
