import { Errors, Flags } from '@oclif/core';
import { constants as osConstants } from 'node:os';
import { BaseCommand } from '../cli/base.js';
import { exitWithStatus } from '../cli/exit.js';
import { configFlag, contextFor, identityFlag } from '../cli/flags.js';
import { auditStream } from '../cli/stdio.js';
import { UsageError } from '../errors.js';
import { keySources } from '../ops/context.js';
import {
  EXEC_FILE_FORMATS,
  execInEnvironment,
  shellStatus,
  type ExecFileFormat,
  type ExecOutcome,
} from '../ops/exec.js';

/** What `exec` did (names only). Not printed: under `--json` only sealant's own errors are. */
export interface ExecCommandResult {
  environment: string;
  keys: string[];
  exitCode: number | null;
  signal: string | null;
}

const DASH_HINT = 'put the command after `--`: sealant exec --env E -- CMD ARGS…';

/**
 * Signals whose default action dumps core. sealant never re-raises them on itself: its core file
 * would hold the decrypted environment. It exits 128+n instead, which shells print the same way
 * except for the "(core dumped)" note.
 */
const CORE_SIGNALS = new Set([
  'SIGQUIT',
  'SIGILL',
  'SIGTRAP',
  'SIGABRT',
  'SIGBUS',
  'SIGFPE',
  'SIGSEGV',
  'SIGSYS',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGIOT',
]);
/** Node handles these itself (SIGUSR1 starts the inspector, SIGPIPE is ignored): re-raising would not end the process. */
const NODE_SIGNALS = new Set(['SIGUSR1', 'SIGPIPE']);

export default class Exec extends BaseCommand<ExecCommandResult> {
  static override summary =
    'Run a command with the decrypted values of an environment (like sops exec-env / exec-file).';
  static override description = [
    "Decrypts every file of --env and runs CMD (no shell) with the values added to its environment, named by the environment's render.dotenv settings (db.password → DB_PASSWORD). Nothing is written to disk.",
    "With --file NAME the values are rendered (dotenv, JSON or YAML; default from NAME's extension) to a 0600 file NAME in a private 0700 temp directory, removed when CMD ends; {} in the arguments is replaced by its path (appended when absent). --fifo uses a named pipe instead: no plaintext on disk, but CMD can read it only once, from start to end.",
    "sealant passes SIGINT/SIGTERM/SIGHUP on to CMD and exits with CMD's exit code; when CMD is killed by a signal, sealant kills itself with the same signal after cleaning up, so a shell sees what it would have seen without sealant (signals that dump core become exit 128+n instead, so no core file of sealant holds secrets).",
    'An audit line (JSON: environment, files with git blob ids, variable names, CI identity; never values) is written before CMD starts: to --audit-log FILE (appended, 0600) or stderr. If it cannot be written, CMD does not run.',
    'Keys whose value is "" or null are not covered by the MAC (as in sops): anyone who can edit a file can add `path: ""` without a key, and CMD would get PATH=. They are named in a warning (key paths only); with --strict CMD does not run.',
    "stdout belongs to CMD: --json is accepted but only changes how sealant's own errors are printed (a JSON envelope on stdout); success prints nothing.",
  ].join('\n\n');
  static override examples = [
    {
      description: 'Run a server with the dev secrets as variables',
      command: '<%= config.bin %> <%= command.id %> --env dev -- npm start',
    },
    {
      description: 'Give a program a private JSON file',
      command: '<%= config.bin %> <%= command.id %> --env prod --file creds.json -- terraform apply -var-file={}',
    },
    {
      description: 'Through a FIFO, audit to a file',
      command:
        '<%= config.bin %> <%= command.id %> --env prod --file .env --fifo --audit-log /var/log/sealant.jsonl -- docker compose --env-file {} up -d',
    },
  ];
  static override usage =
    '<%= command.id %> --env E [--file NAME [--fifo] [--format F]] [--audit-log FILE] -- CMD [ARGS…]';
  // The command's own arguments follow `--`; strict parsing would reject them.
  static override strict = false;
  static override flags = {
    env: Flags.string({ char: 'e', summary: 'Environment whose files to decrypt.', required: true }),
    file: Flags.string({
      summary: 'Expose the values as this file (a name, not a path) instead of variables.',
      helpValue: 'NAME',
    }),
    // No defaults on the --file companions: oclif applies dependsOn to defaulted flags too.
    fifo: Flags.boolean({
      summary: 'With --file: use a FIFO (read once, never on disk) instead of a 0600 file.',
      dependsOn: ['file'],
    }),
    format: Flags.option({
      summary: "With --file: the file's format (default: from NAME's extension, else dotenv).",
      options: EXEC_FILE_FORMATS,
      dependsOn: ['file'],
    })(),
    placeholder: Flags.string({
      summary: "With --file: the argument text replaced by the file's path (default {}).",
      dependsOn: ['file'],
    }),
    identity: identityFlag(),
    config: configFlag(),
    strict: Flags.boolean({
      summary:
        'Fail when two files set one key to different values, or a value is not covered by the MAC ("" or null).',
      default: false,
    }),
    'audit-log': Flags.string({
      summary: 'Append the audit line to FILE (0600) instead of stderr.',
      helpValue: 'FILE',
      env: 'SEALANT_AUDIT_LOG',
    }),
  };

  async run(): Promise<ExecCommandResult> {
    const { flags, raw } = await this.parse(Exec).catch((err: unknown) => {
      // Most likely CMD's own options given without `--` in front of CMD.
      if (err instanceof Errors.CLIError && err.message.startsWith('Nonexistent flag'))
        throw new UsageError(err.message.split('\n')[0] ?? err.message, { hint: DASH_HINT });
      throw err;
    });
    // Raw tokens keep the order and duplicates of CMD's arguments (parsed argv does not).
    const [command, ...args] = raw.filter((t) => t.type === 'arg').map((t) => t.input);
    if (command === undefined) throw new UsageError('no command to run', { hint: DASH_HINT });
    const audit = auditStream(flags['audit-log'], "the command's output");
    const ctx = contextFor((m) => this.warnUser(m));
    const sources = await keySources(ctx, { identityFiles: flags.identity ?? [] });
    const report = await execInEnvironment(ctx, {
      env: flags.env,
      sources,
      configPath: flags.config,
      strict: flags.strict,
      command,
      args,
      ...(flags.file === undefined
        ? {}
        : {
            file: {
              name: flags.file,
              format: flags.format as ExecFileFormat | undefined,
              fifo: flags.fifo === true,
              placeholder: flags.placeholder ?? '{}',
            },
          }),
      ...(audit.auditLog === undefined ? {} : { auditLog: audit.auditLog }),
      stderr: audit.stream,
    });
    finishLikeChild(report);
    return { environment: report.environment, keys: report.keys, exitCode: report.exitCode, signal: report.signal };
  }

  /** Warnings go to stderr even under `--json`: there is no success envelope to carry them. */
  protected override warnUser(message: string): void {
    process.stderr.write(`${this.stderrStyle.yellow('warning:')} ${message}\n`);
  }

  /** stdout is the command's: no success envelope (errors are printed by `catch`, not here). */
  protected override logJson(): void {}
}

/**
 * Ends sealant the way the command ended. Exit code: passed through. Signal: re-raised on
 * sealant itself, so the caller sees "killed by SIGINT", not "exited 130". It matters for Ctrl-C
 * in a script: bash, which got the SIGINT too, stops the script only if its child died of it
 * (an exit status means "the program handled Ctrl-C, carry on"). By then the temp directory is
 * gone and no handler is left for the signal.
 */
function finishLikeChild(outcome: ExecOutcome): void {
  exitWithStatus(shellStatus(outcome));
  const sig = outcome.signal;
  if (sig === null || CORE_SIGNALS.has(sig) || NODE_SIGNALS.has(sig) || osConstants.signals[sig] === undefined) return;
  // Still listened to (some other handler): the kill would be caught, so keep exit 128+n.
  if (process.listenerCount(sig) > 0) return;
  process.kill(process.pid, sig);
}
