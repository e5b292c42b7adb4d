/**
 * `config import`: read a `.sops.yaml`, convert it with config/import.ts, and write the
 * `.sealant.yaml` atomically.
 */
import { relative, resolve } from 'node:path';
import { configRelativePath } from '../config/files.js';
import { walkFiles } from '../fsx/walk.js';
import { importSopsConfig, type ImportedEnvironment } from '../config/import.js';
import { findSopsConfig, readProjectConfig } from '../config/index.js';
import { SEALANT_CONFIG_FILE, SOPS_CONFIG_FILE } from '../config/model.js';
import { ConfigError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../fsx/atomic.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Options of {@link runImport}. */
export interface ImportOptions {
  cwd: string;
  env: Env;
  /** The `.sops.yaml` to read (default: `SOPS_CONFIG`, else found from `cwd` upwards). */
  from?: string;
  /** Where to write (default: `.sealant.yaml` next to the `.sops.yaml`); `-` = do not write. */
  out?: string;
  /** Replace an existing output file. */
  force?: boolean;
}

/** What {@link runImport} did (the `--json` result of `config import`). */
export interface ImportOutcome {
  source: string;
  /** Where the file was written; undefined with `out: '-'`. */
  out?: string;
  environments: ImportedEnvironment[];
  warnings: string[];
  text: string;
}

/**
 * Reads a `.sops.yaml`, converts it, and writes the `.sealant.yaml` atomically.
 * @throws ConfigError when there is no `.sops.yaml`, it has no creation rules, or a rule cannot
 * be imported; UsageError when the output exists and `force` is not set; WriteError.
 */
export async function runImport(opts: ImportOptions): Promise<ImportOutcome> {
  const path = await findSopsConfig(opts.cwd, opts.env, opts.from);
  if (path === undefined)
    throw new ConfigError(`no ${SOPS_CONFIG_FILE} found from this directory upwards`, {
      hint: 'pass --config PATH to name one',
    });
  const shown = relative(opts.cwd, path) || path;
  const config = await readProjectConfig({ path, kind: 'sops' }, opts.cwd);
  if (config === undefined) throw new ConfigError('has no creation_rules: nothing to import', { file: shown });
  const files = (await walkFiles(config.root)).filter((f) => f !== configRelativePath(config.root, path).path);
  const result = importSopsConfig(config, files);
  const outcome: ImportOutcome = {
    source: shown,
    environments: result.environments,
    warnings: result.warnings,
    text: result.text,
  };
  if (opts.out === '-') return outcome;
  const out = opts.out === undefined ? resolve(config.root, SEALANT_CONFIG_FILE) : resolve(opts.cwd, opts.out);
  const outShown = relative(opts.cwd, out) || out;
  try {
    await writeFileAtomic(out, result.text, { exclusive: opts.force !== true, noFollow: true });
  } catch (e) {
    if (opts.force !== true && e instanceof Error && /refusing to overwrite/.test(e.message)) {
      throw new UsageError('already exists', {
        file: outShown,
        hint: 'pass --force to replace it, or --out another path',
      });
    }
    throw e;
  }
  return { ...outcome, out: outShown };
}
