import { Errors } from '@oclif/core';

import { BaseCommand, debugEnabled } from '../cli/base.js';
import { exitWith, exitWithStatus } from '../cli/exit.js';
import { contextFor } from '../cli/flags.js';
import { writeStdout } from '../cli/output.js';
import { reportOneLine } from '../cli/krm.js';
import { auditStream } from '../cli/stdio.js';
import type { KrmResult } from '../krm/resource-list.js';
import type { AuditSink } from '../ops/audit.js';
import type { OpsContext } from '../ops/context.js';
import { auditGeneratorRun, readResourceList, runResourceList } from '../ops/krm.js';

/** What `sealant krm` did (it has no `--json`: stdout is the ResourceList). */
export interface KrmCommandResult {
  /** Secrets appended to the list. */
  generated: number;
  /** Error results (the exit status is 1 when there are any). */
  errors: number;
}

/**
 * `SEALANT_AUDIT_LOG` when set, else stderr (which kpt shows, and kustomize shows on failure only).
 * @throws UsageError for `-` (stdout): stdout is the ResourceList or the Secrets.
 */
export function auditSink(ctx: OpsContext): AuditSink {
  const log = ctx.env.SEALANT_AUDIT_LOG;
  if (log === undefined || log === '') return { stderr: process.stderr };
  const { auditLog, stream } = auditStream(log, 'the Kubernetes output');
  return { ...(auditLog === undefined ? {} : { auditLog }), stderr: stream };
}

function resultLine(r: KrmResult): string {
  return r.resourceRef === undefined ? r.message : `${r.resourceRef.kind} "${r.resourceRef.name}": ${r.message}`;
}

export default class Krm extends BaseCommand<KrmCommandResult> {
  static override summary = 'KRM function: render the SecretGenerators of a ResourceList read on stdin.';
  static override description = [
    'Reads a ResourceList (config.kubernetes.io/v1, YAML or JSON) on stdin, renders every sealant.dev/v1 SecretGenerator in it (items and functionConfig) into Kubernetes Secrets, and writes the ResourceList back on stdout: generators removed, Secrets appended, failures as `severity: error` results (exit 1).',
    'Decrypts with the usual SOPS key sources (SOPS_AGE_KEY_FILE, SOPS_AGE_KEY, ~/.config/sops/age/keys.txt, KMS, PGP). The config is found from the working directory upwards unless the generator names one. One audit event per generator goes to stderr, or to SEALANT_AUDIT_LOG.',
    'Always ask for the output (kpt -o stdout / -o unwrap): run in place, kpt would write the plaintext Secrets into the package. See docs/kubernetes.md.',
  ].join('\n\n');
  static override examples = [
    {
      description: 'kpt, imperatively',
      command: 'kpt fn eval --exec "sealant krm" DIR -o unwrap | kubectl apply -f -',
    },
    {
      description: 'kpt, with a Kptfile pipeline (exec: "sealant krm")',
      command: 'kpt fn render --allow-exec DIR -o unwrap',
    },
  ];
  static override enableJsonFlag = false;

  async run(): Promise<KrmCommandResult> {
    await this.parse(Krm);
    const list = await readResourceList();
    const ctx = contextFor((m) => this.warnUser(m));
    const sink = auditSink(ctx);
    const { output, runs } = await runResourceList(ctx, list, {});
    // The audit event is written before the Secrets leave the process, and a failure to write it
    // stops them from leaving at all.
    for (const run of runs) await auditGeneratorRun(ctx, run, sink);
    await writeStdout(output.text);
    // kpt prints the results; standalone kustomize only shows stderr.
    for (const r of output.results) if (r.severity === 'error') process.stderr.write(`sealant: ${resultLine(r)}\n`);
    if (output.errors > 0) exitWith('KRM_FAILED');
    return { generated: runs.reduce((n, r) => n + r.manifests.length, 0), errors: output.errors };
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<void> {
    if (err instanceof Errors.ExitError) throw err;
    this.parsed = true;
    exitWithStatus(reportOneLine(err, { verbose: this.verbose || debugEnabled(), commandId: this.id }));
  }
}
