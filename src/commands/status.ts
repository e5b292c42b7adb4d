import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { contextFor, identityFlag, inputTypeFlag, stringArg } from '../cli/flags.js';
import { isStdinFile, readStdinInput } from '../cli/stdio.js';
import { statusFile, statusText, type StatusResult } from '../ops/status.js';

export default class Status extends BaseCommand<StatusResult> {
  static override summary = 'Show whether a file is encrypted, for whom, and whether its MAC is valid.';
  static override description =
    'Reads the sops metadata without any key. When an identity is available it also unwraps the data key and verifies the MAC (--no-verify skips that). Exit code 0 even if the MAC is invalid; check "macValid" in --json.';
  static override examples = [
    { description: 'Human-readable status', command: '<%= config.bin %> <%= command.id %> environments/prod/app.yaml' },
    {
      description: 'For scripts',
      command: '<%= config.bin %> <%= command.id %> --json secrets.yaml | jq .result.encrypted',
    },
  ];
  static override args = {
    file: stringArg({ description: 'File to inspect (-: standard input, with --input-type)', required: true }),
  };
  static override flags = {
    verify: Flags.boolean({ summary: 'Verify the MAC when a key is available.', default: true, allowNo: true }),
    'input-type': inputTypeFlag(),
    identity: identityFlag(),
  };

  async run(): Promise<StatusResult> {
    const { args, flags } = await this.parse(Status);
    const ctx = contextFor((m) => this.warnUser(m));
    const opts = { inputType: flags['input-type'], identityFiles: flags.identity ?? [], verify: flags.verify };
    const input = isStdinFile(args.file) ? await readStdinInput(flags['input-type']) : undefined;
    const r =
      input === undefined
        ? await statusFile(args.file, ctx, opts)
        : await statusText(input.bytes, input.file, ctx, { ...opts, inputType: input.format });
    if (!this.jsonEnabled()) this.log(renderStatus(r));
    return r;
  }
}

function renderStatus(r: StatusResult): string {
  if (!r.encrypted) return `${r.file}: not encrypted`;
  const lines = [
    `${r.file}: encrypted (sops ${r.version ?? '?'}, ${r.format}), last modified ${r.lastmodified ?? '?'}`,
  ];
  (r.keyGroups ?? []).forEach((g, i) => {
    const label = (r.keyGroups ?? []).length > 1 ? `  group ${i + 1}:` : '  recipients:';
    lines.push(label);
    for (const a of g.age) lines.push(`    age ${a}`);
    for (const k of g.kms) lines.push(`    kms ${k}`);
    for (const o of g.other) lines.push(`    ${o} (not supported yet, kept as is)`);
  });
  if (r.shamirThreshold !== undefined) lines.push(`  threshold: ${r.shamirThreshold} groups`);
  if (r.rule !== undefined) lines.push(`  rule: ${r.rule.field}: ${r.rule.value}`);
  if (r.macValid === true) lines.push(`  MAC: valid (data key unwrapped by ${(r.unwrappedBy ?? []).join(', ')})`);
  else if (r.macValid === false) lines.push(`  MAC: INVALID (${r.macCheck ?? ''})`);
  else if (r.macValid === null) lines.push('  MAC: not checked (no available identity can unwrap the data key)');
  return lines.join('\n');
}
