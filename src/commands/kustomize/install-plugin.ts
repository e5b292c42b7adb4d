import { join } from 'node:path';

import { Flags } from '@oclif/core';

import { BaseCommand } from '../../cli/base.js';
import { installKustomizePlugin, kustomizePluginHome } from '../../ops/krm.js';

/** `sealant kustomize install-plugin --json` result (public API). */
export interface InstallPluginResult {
  /** The plugin home to give kustomize as KUSTOMIZE_PLUGIN_HOME. */
  pluginHome: string;
  /** The executable written (`<home>/sealant.dev/v1/secretgenerator/SecretGenerator`). */
  plugin: string;
  /** The sealant entry point the plugin runs. */
  entryPoint: string;
}

export default class KustomizeInstallPlugin extends BaseCommand<InstallPluginResult> {
  static override summary =
    'Install the kustomize exec plugin for sealant.dev/v1 SecretGenerator (works with kubectl kustomize).';
  static override description = [
    'Writes DIR/sealant.dev/v1/secretgenerator/SecretGenerator (mode 0755), a shell script that runs this installation of sealant. A kustomization then lists a SecretGenerator under `generators:` and builds with `--enable-alpha-plugins`, the way KSOPS works. Re-running replaces the script (after moving or upgrading sealant, run it again).',
    "kubectl's built-in kustomize cannot run KRM exec functions (it has no --enable-exec), but it does run these legacy exec plugins. See docs/kubernetes.md.",
  ].join('\n\n');
  static override examples = [
    {
      description: 'Install next to the repository and build',
      command:
        '<%= config.bin %> <%= command.id %> --dir /tmp/plugins && KUSTOMIZE_PLUGIN_HOME=/tmp/plugins kubectl kustomize --enable-alpha-plugins examples/kustomize',
    },
    { description: "Install in kustomize's default plugin home", command: '<%= config.bin %> <%= command.id %>' },
  ];
  static override flags = {
    dir: Flags.string({
      summary:
        'Plugin home (what KUSTOMIZE_PLUGIN_HOME will name). Default: $KUSTOMIZE_PLUGIN_HOME, else $XDG_CONFIG_HOME/kustomize/plugin, else ~/.config/kustomize/plugin.',
      helpValue: 'DIR',
    }),
  };

  async run(): Promise<InstallPluginResult> {
    const { flags } = await this.parse(KustomizeInstallPlugin);
    const pluginHome = kustomizePluginHome(flags.dir);
    const installed = await installKustomizePlugin(pluginHome, join(this.config.root, 'bin', 'run.js'));
    this.log(`installed ${installed.plugin}`);
    this.log(`build with: KUSTOMIZE_PLUGIN_HOME=${pluginHome} kubectl kustomize --enable-alpha-plugins DIR`);
    return { pluginHome, ...installed };
  }
}
