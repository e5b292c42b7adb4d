/**
 * The recipients of a project's environments, as `sealant recipients list` reports them.
 */
import type { KmsRecipient } from '../keys/datakey.js';
import { environmentByName } from './index.js';
import type { EnvironmentConfig, ProjectConfig } from './model.js';

/** One environment's recipients (part of `recipients list --json`: public API). */
export interface EnvironmentRecipients {
  name: string;
  /** `files` globs, for a `.sealant.yaml` environment. */
  files?: string[];
  /** `path_regex`, when the environment (or creation rule) has one. */
  pathRegex?: string;
  /** One entry per key group. */
  groups: { age: string[]; kms: KmsRecipient[]; pgp: string[] }[];
  shamirThreshold?: number;
  /** Key types of a `.sops.yaml` rule that sealant cannot use yet. */
  unsupportedKeys?: string[];
}

/** `recipients list --json` result (public API). */
export interface RecipientsListing {
  /** The config file (as given to the function: usually relative to the working directory). */
  config: string;
  kind: 'sealant' | 'sops';
  environments: EnvironmentRecipients[];
}

function describe(env: EnvironmentConfig): EnvironmentRecipients {
  const out: EnvironmentRecipients = {
    name: env.name,
    ...(env.files.length > 0 ? { files: [...env.files] } : {}),
    ...(env.pathRegex === undefined ? {} : { pathRegex: env.pathRegex }),
    groups: env.groups.map((g) => ({ age: [...g.age], kms: g.kms.map((k) => ({ ...k })), pgp: [...(g.pgp ?? [])] })),
  };
  if (env.shamirThreshold !== undefined) out.shamirThreshold = env.shamirThreshold;
  if (env.unsupportedKeys !== undefined) out.unsupportedKeys = [...env.unsupportedKeys];
  return out;
}

/**
 * The recipients of every environment of `config`, or of `envName` only.
 * @param shown - the config file's name for the result.
 * @throws ConfigError for an unknown `envName` (listing the known ones).
 */
export function listRecipients(config: ProjectConfig, shown: string, envName?: string): RecipientsListing {
  const envs = envName === undefined ? config.environments : [environmentByName(config, envName)];
  return { config: shown, kind: config.kind, environments: envs.map(describe) };
}
