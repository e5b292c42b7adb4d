/**
 * `recipients list`: the recipients of each environment of the project configuration.
 */
import { relative } from 'node:path';
import { loadProjectConfig } from '../config/index.js';
import { listRecipients, type RecipientsListing } from '../config/listing.js';
import { ConfigError } from '../errors.js';
import type { OpsContext } from './context.js';

/**
 * Lists the recipients of every environment (or of `env` only) of the config found from
 * `ctx.cwd` upwards, or of `config` (`--config`).
 * @throws ConfigError when there is no config file, or no environment `env`.
 */
export async function listProjectRecipients(
  ctx: Pick<OpsContext, 'cwd' | 'env'>,
  opts: { config?: string; env?: string } = {},
): Promise<RecipientsListing> {
  const config = await loadProjectConfig({
    cwd: ctx.cwd,
    env: ctx.env,
    ...(opts.config === undefined ? {} : { path: opts.config }),
  });
  if (config === undefined)
    throw new ConfigError('no .sealant.yaml or .sops.yaml found from this directory upwards', {
      hint: 'create one (see docs/config.md) or pass --config FILE',
    });
  return listRecipients(config, relative(ctx.cwd, config.path) || config.path, opts.env);
}
