/**
 * The legacy kustomize exec plugin (the layout KSOPS uses), pure: where kustomize looks for it
 * and the script it runs. `kubectl kustomize` has no `--enable-exec`, so this older plugin
 * mechanism is the one that works with kubectl's built-in kustomize.
 *
 * kustomize (v5.5, checked empirically) finds the plugin of `apiVersion: G/V`, `kind: K` at
 * `$KUSTOMIZE_PLUGIN_HOME/G/V/lowercase(K)/K`, runs it with one argument (a temp file holding the
 * generator resource), its working directory set to the kustomization's directory, the
 * environment inherited plus `KUSTOMIZE_PLUGIN_CONFIG_STRING` (the same resource) and
 * `KUSTOMIZE_PLUGIN_CONFIG_ROOT` (that directory); stdout must be the generated resources as
 * YAML. On failure kustomize shows the plugin's stderr; on success it discards it.
 */
import { join } from 'node:path';

import { GENERATOR_API_VERSION, GENERATOR_KIND } from './resource-list.js';

/** The plugin's path below the plugin home: `sealant.dev/v1/secretgenerator/SecretGenerator`. */
export function kustomizePluginPath(pluginHome: string): string {
  return join(pluginHome, ...GENERATOR_API_VERSION.split('/'), GENERATOR_KIND.toLowerCase(), GENERATOR_KIND);
}

/** `s` as one single-quoted shell word. */
function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * The plugin script: hands everything to `sealant kustomize generate` of the installation at
 * `entryPoint` (absolute path of its `bin/run.js`), so the plugin follows that installation's
 * upgrades. Without arguments the same command reads a KRM ResourceList on stdin, so the script
 * also serves as the `exec.path` of a KRM function for standalone `kustomize --enable-exec`.
 */
export function kustomizePluginScript(entryPoint: string): string {
  return [
    '#!/bin/sh',
    `# kustomize exec plugin for ${GENERATOR_API_VERSION} ${GENERATOR_KIND}; written by \`sealant kustomize install-plugin\`.`,
    '# kustomize runs it with the generator config file as $1, in the kustomization directory.',
    `exec node ${shellQuote(entryPoint)} kustomize generate "$@"`,
    '',
  ].join('\n');
}

/**
 * The plugin home kustomize would use when `KUSTOMIZE_PLUGIN_HOME` is set or the directory is
 * created: `$KUSTOMIZE_PLUGIN_HOME`, else `$XDG_CONFIG_HOME/kustomize/plugin`, else
 * `~/.config/kustomize/plugin` (kustomize takes the first of these that exists).
 */
export function defaultPluginHome(env: Readonly<Record<string, string | undefined>>, homeDir: string): string {
  const own = env.KUSTOMIZE_PLUGIN_HOME;
  if (own !== undefined && own !== '') return own;
  const xdg = env.XDG_CONFIG_HOME;
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homeDir, '.config'), 'kustomize', 'plugin');
}
