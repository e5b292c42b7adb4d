import { readFile } from 'node:fs/promises';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base.js';
import { configFlag, contextFor, identityFlag, stringArg } from '../cli/flags.js';
import { isStdinFile, readStdinText, STDIN_NAME } from '../cli/stdio.js';
import { UsageError } from '../errors.js';
import { applyPlan, parsePlan, parseValueFlag, type ApplyResult } from '../ops/apply.js';
import { keySources } from '../ops/context.js';

/** `sealant apply --json` result (public API). */
export type ApplyCommandResult = ApplyResult;

export default class Apply extends BaseCommand<ApplyCommandResult> {
  static override summary = 'Carry out a rotation plan: all files or none.';
  static override description =
    "Refuses when any file (or the config) changed since the plan. Computes every new file in memory — the config without offboarded recipients, rewrap, new data key, new values (generated from the schema's x-sealant-generate, or read with --value PATH=@FILE or PATH=- from stdin, keeping each key's type) — validates the new values against the schema, and only then replaces them all. Values are never taken from the command line.";
  static override examples = [
    { description: 'Apply a saved plan', command: '<%= config.bin %> <%= command.id %> plan.json' },
    {
      description: 'A value with no generator, from a private file',
      command: "<%= config.bin %> <%= command.id %> plan.json --value 'stripe.key=@/dev/shm/stripe'",
    },
    { description: 'Preview the encrypted diff', command: '<%= config.bin %> <%= command.id %> plan.json --dry-run' },
  ];
  static override args = {
    plan: stringArg({ description: 'Plan file written by `sealant plan --out` (-: standard input).', required: true }),
  };
  static override flags = {
    'dry-run': Flags.boolean({ summary: 'Print the diff it would produce; write nothing.', default: false }),
    value: Flags.string({
      summary: 'New value of a key: PATH=@FILE or PATH=- (stdin); prefix FILE# for one file only. Repeatable.',
      multiple: true,
    }),
    config: configFlag(),
    identity: identityFlag(),
  };

  async run(): Promise<ApplyCommandResult> {
    const { args, flags } = await this.parse(Apply);
    const ctx = contextFor((m) => this.warnUser(m));
    const fromStdin = isStdinFile(args.plan);
    const planText = fromStdin ? await readStdinText('the plan') : await readFile(args.plan, 'utf8').catch(() => '');
    let data: unknown;
    try {
      data = JSON.parse(planText) as unknown;
    } catch {
      throw new UsageError('cannot read the plan (missing or not JSON)', { file: fromStdin ? STDIN_NAME : args.plan });
    }
    const plan = parsePlan(data);
    const values = (flags.value ?? []).map(parseValueFlag);
    const sources = await keySources(ctx, { identityFiles: flags.identity ?? [] });
    const result = await applyPlan(plan, ctx, {
      sources,
      values,
      dryRun: flags['dry-run'],
      configPath: flags.config,
      readStdin: () => readStdinText('the --value read from stdin'),
      ...(process.stdin.isTTY === true && !this.jsonEnabled() ? { prompt: hiddenPrompt } : {}),
    });
    if (!this.jsonEnabled()) {
      if (result.diff !== undefined) this.log(result.diff.trimEnd());
      for (const r of result.config?.removed ?? [])
        this.log(
          `${result.config!.file}: ${result.dryRun ? 'would remove' : 'removed'} ${r.recipient} from environment "${r.environment}"`,
        );
      for (const f of result.files)
        this.log(
          `${f.file}: ${result.dryRun ? 'would apply' : 'applied'} ${f.actions.join(', ')}${f.values.map((v) => `\n  ~ ${v.path} (${v.source})`).join('')}`,
        );
      if (result.files.length === 0 && result.config === undefined) this.log('Nothing to do: the plan is empty.');
    }
    return result;
  }
}

/**
 * Reads one line from the terminal without echoing it (the value is a secret: it must not stay
 * on screen or in the scrollback).
 */
function hiddenPrompt(file: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(`new value for ${path} in ${file} (input hidden): `);
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err === undefined) resolve(value);
      else reject(err);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new UsageError('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
