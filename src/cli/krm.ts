/** How the Kubernetes integrations (`krm`, `kustomize generate`) report a failure to their orchestrator. */
import { SealantError } from '../errors.js';
import { failureMessage } from '../krm/resource-list.js';
import { toErrorEnvelope } from './base.js';

/**
 * Prints a failure as orchestrators want it: exactly one line on stderr (`sealant: …`), no hint
 * line, the stack only under `--verbose`/`DEBUG=sealant`.
 * @returns the exit code.
 */
export function reportOneLine(err: unknown, opts: { verbose: boolean; prefix?: string; commandId?: string }): number {
  const env = toErrorEnvelope(err, opts.commandId);
  const line = !(err instanceof SealantError) && env.code === 'USAGE' ? env.message : failureMessage(err);
  process.stderr.write(`sealant: ${opts.prefix ?? ''}${line}\n`);
  if (opts.verbose) process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return env.exitCode;
}
