/**
 * Per-environment render settings (`render:` in `.sealant.yaml`), validated by the config
 * schema and passed to the pure renderers.
 */

/** How nested keys become environment variable names (`db.password` → `DB_PASSWORD`). */
export interface DotenvNaming {
  /** Prepended to every name (`SHOP_`). Default ''. */
  prefix: string;
  /** Between path segments. Default '_'. */
  separator: string;
  /** Default 'upper'. */
  case: 'upper' | 'lower' | 'preserve';
}

export const DEFAULT_DOTENV_NAMING: DotenvNaming = { prefix: '', separator: '_', case: 'upper' };

/** One Kubernetes Secret to produce from (part of) the merged tree. */
export interface SecretSpec {
  name: string;
  namespace?: string;
  /** `Opaque` (default), `kubernetes.io/tls`, `kubernetes.io/dockerconfigjson`, or any type. */
  type?: string;
  /** Dotted key paths or globs (`db.*`, `stripe.**`) whose values go into this Secret. Default: all. */
  keys?: string[];
  /** Removed from the start of each key path before it becomes the Secret's key (`db` → `password`). */
  stripPrefix?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  immutable?: boolean;
  /** `data` (base64, default) or `stringData`. */
  encoding?: 'data' | 'stringData';
}

export interface RenderSettings {
  dotenv?: Partial<DotenvNaming>;
  /** Default: one Opaque Secret named after the environment holding every value. */
  secrets?: SecretSpec[];
}
