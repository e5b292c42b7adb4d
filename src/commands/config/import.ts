import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base.js';
import { configFlag, contextFor } from '../../cli/flags.js';
import { writeStdout } from '../../cli/output.js';
import type { ImportedEnvironment } from '../../config/import.js';
import { runImport } from '../../ops/config-import.js';

/** `sealant config import --json` result (public API). */
export interface ConfigImportResult {
  /** The .sops.yaml that was read. */
  source: string;
  /** Where the .sealant.yaml was written (absent with `--out -`). */
  out?: string;
  environments: ImportedEnvironment[];
  /** The generated file, when it was not written (`--out -`). */
  text?: string;
}

export default class ConfigImport extends BaseCommand<ConfigImportResult> {
  static override summary = 'Create a .sealant.yaml from a .sops.yaml.';
  static override description =
    'Each creation rule becomes an environment with the same recipients, key groups and encryption rule. A path_regex becomes files: globs when globs can say exactly the same, else it is kept as path_regex. SOPS uses the first matching rule while sealant wants exactly one environment per file, so later environments exclude (!glob) what earlier ones own; overlaps that cannot be resolved that way are printed as warnings. The .sops.yaml is left as it is (sops keeps using it; sealant prefers the .sealant.yaml).';
  static override examples = [
    {
      description: 'Write .sealant.yaml next to the nearest .sops.yaml',
      command: '<%= config.bin %> <%= command.id %>',
    },
    { description: 'Preview without writing', command: '<%= config.bin %> <%= command.id %> --out -' },
    { description: 'Replace an existing .sealant.yaml', command: '<%= config.bin %> <%= command.id %> --force' },
  ];
  static override flags = {
    config: configFlag(
      'The .sops.yaml to import (default: $SOPS_CONFIG, else the nearest .sops.yaml from the current directory up).',
    ),
    out: Flags.string({
      char: 'o',
      summary: 'Where to write (default: .sealant.yaml next to the .sops.yaml); "-" prints it instead.',
      helpValue: 'FILE',
    }),
    force: Flags.boolean({ char: 'f', summary: 'Replace the output file if it exists.', default: false }),
  };

  async run(): Promise<ConfigImportResult> {
    const { flags } = await this.parse(ConfigImport);
    const ctx = contextFor((m) => this.warnUser(m));
    const r = await runImport({ cwd: ctx.cwd, env: ctx.env, from: flags.config, out: flags.out, force: flags.force });
    for (const w of r.warnings) this.warnUser(w);
    const result: ConfigImportResult = { source: r.source, environments: r.environments };
    if (r.out === undefined) {
      result.text = r.text;
      if (!this.jsonEnabled()) await writeStdout(r.text);
      return result;
    }
    result.out = r.out;
    if (!this.jsonEnabled()) {
      this.log(`${r.out}: ${r.environments.length} environment(s) from ${r.source}`);
      for (const e of r.environments)
        this.log(`  ${e.name}  ${e.files !== undefined ? e.files.join(' ') : `path_regex ${e.pathRegex ?? ''}`}`);
    }
    return result;
  }
}
