/**
 * The process entry point behind `bin/run.js`. oclif's `execute()` would print failures that
 * escape a command (unknown command, a command that fails to load) in its own multi-line style;
 * this runs oclif the same way but reports those through {@link reportError} like every other
 * failure.
 */

import { Errors, flush, run } from '@oclif/core';

import { EXIT_SUCCESS, signalExitStatus } from '../errors.js';
import { debugEnabled, reportError } from './base.js';
import { exitNow, exitWithStatus } from './exit.js';

/** `--name` given before any `--` separator. */
function hasFlag(argv: readonly string[], name: string): boolean {
  const end = argv.indexOf('--');
  const i = argv.indexOf(name);
  return i !== -1 && (end === -1 || i < end);
}

/**
 * Runs the CLI and sets the exit status; exits at once only when stdout's reader left, so piped
 * stdout is always flushed.
 *
 * @param dir `import.meta.url` of the bin script (oclif finds package.json from it).
 */
export async function main(dir: string, argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  // `sealant decrypt f | head -1`: the reader left. Stop quietly with the status a Unix tool
  // killed by SIGPIPE reports (128 + 13), instead of an unhandled 'error' event and a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') exitNow(signalExitStatus('SIGPIPE'));
    throw err;
  });
  try {
    await run([...argv], dir);
  } catch (err) {
    // `this.exit(n)` inside a command: a status, not an error.
    if (err instanceof Errors.ExitError) {
      exitWithStatus(err.oclif.exit ?? EXIT_SUCCESS);
    } else {
      const json = hasFlag(argv, '--json') || process.env.SEALANT_CONTENT_TYPE?.toLowerCase() === 'json';
      exitWithStatus(reportError(err, { json, verbose: hasFlag(argv, '--verbose') || debugEnabled() }));
    }
  } finally {
    await flush();
  }
}
