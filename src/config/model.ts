/**
 * The project configuration as the rest of sealant sees it, whichever file it came from:
 * `.sealant.yaml` (environments owning files by glob) or a SOPS `.sops.yaml` (creation rules,
 * first match wins). Everything here has been validated where it was read: recipients are
 * well-formed, at most one encryption rule is set, regexes compile.
 */
import type { CryptRule } from '../format/selectors.js';
import type { GroupRecipients } from '../keys/datakey.js';
import type { RenderSettings } from '../render/settings.js';

/** File name of sealant's own config, looked up from the working directory upwards. */
export const SEALANT_CONFIG_FILE = '.sealant.yaml';

/** File name SOPS looks up (`config/config.go`); `.sops.yml` is not read, by SOPS either. */
export const SOPS_CONFIG_FILE = '.sops.yaml';

/** One environment (`.sealant.yaml`) or one creation rule (`.sops.yaml`). */
export interface EnvironmentConfig {
  /** `dev`, `prod`…; `rule-1`, `rule-2`… for `.sops.yaml` creation rules (1-based, in file order). */
  name: string;
  /**
   * Globs relative to the config file's directory (`environments/dev/**`); a leading `!`
   * excludes. Empty when the environment selects files with {@link pathRegex}.
   */
  files: string[];
  /**
   * Go RE2 regex searched (unanchored) in the path relative to the config file's directory, as
   * SOPS's `path_regex`. Undefined with `files`, and for a creation rule without `path_regex`
   * (which matches every file).
   */
  pathRegex?: string;
  /** Recipients per key group: one group unless `key_groups` is used. */
  groups: GroupRecipients[];
  /** Groups needed to recover the data key; undefined = all of them (SOPS's default). */
  shamirThreshold?: number;
  /** Which values are encrypted; undefined = SOPS's default (`unencrypted_suffix: _unencrypted`). */
  rule?: CryptRule;
  macOnlyEncrypted?: boolean;
  /** JSON schema for the decrypted content, relative to the config file's directory. */
  schema?: string;
  /** Schemas for some of the files (globs relative to the config root); first match wins over `schema`. */
  schemas?: { files: string[]; schema: string }[];
  /** Key paths/globs exempt from `validate --parity` for this environment. */
  parityIgnore?: string[];
  /** How render/exec/krm present this environment (`.sealant.yaml` only). */
  render?: RenderSettings;
  /** Line of the environment (or creation rule) in the config file, for messages. */
  line?: number;
  /**
   * `.sops.yaml` only: key types the rule names that sealant cannot use yet (`gcp_kms`,
   * `azure_keyvault`, `hc_vault_transit_uri`, `hckms`, `plugins`), so callers can refuse
   * instead of silently encrypting for fewer keys than SOPS would.
   */
  unsupportedKeys?: string[];
  /** Rotation policy (`.sealant.yaml` only): values older than this (ms) are due for rotation. */
  rotateEvery?: number;
  /** Rotation policy: a data key older than this (ms) is due for rotation. */
  dataKeyMaxAge?: number;
  /** Who rotates this environment's values (a team or person; shown in plans). */
  owner?: string;
  /** Per-key rotation policies; the first entry whose globs match a key path wins over the environment's. */
  policies?: KeyPolicy[];
}

/** A rotation policy for some key paths (dotted globs such as `db.*`). */
export interface KeyPolicy {
  keys: string[];
  /** Milliseconds. */
  rotateEvery?: number;
  owner?: string;
}

/** A loaded configuration file. */
export interface ProjectConfig {
  kind: 'sealant' | 'sops';
  /** Absolute path of the config file. */
  path: string;
  /** Absolute directory of the config file: globs and `path_regex` are relative to it. */
  root: string;
  /** In file order. */
  environments: EnvironmentConfig[];
  /** Key paths/globs exempt from `validate --parity` everywhere. */
  parityIgnore?: string[];
}
