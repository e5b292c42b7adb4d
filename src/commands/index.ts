/**
 * The command map oclif loads (`"strategy": "explicit"` in package.json): one line per command,
 * key = command id (use spaces-free ids; `topicSeparator` is a space, so `a:b` is typed `a b`).
 */
import Access from './access.js';
import Apply from './apply.js';
import ConfigImport from './config/import.js';
import Decrypt from './decrypt.js';
import Diff from './diff.js';
import Edit from './edit.js';
import Encrypt from './encrypt.js';
import Exec from './exec.js';
import GitInstall from './git/install.js';
import GitMergeDriver from './git/merge-driver.js';
import GitTextconv from './git/textconv.js';
import Guard from './guard.js';
import Keygen from './keygen.js';
import Krm from './krm.js';
import Plan from './plan.js';
import KustomizeGenerate from './kustomize/generate.js';
import KustomizeInstallPlugin from './kustomize/install-plugin.js';
import RecipientsAdd from './recipients/add.js';
import RecipientsList from './recipients/list.js';
import RecipientsRemove from './recipients/remove.js';
import Render from './render.js';
import Rotate from './rotate.js';
import SetCommand from './set.js';
import Status from './status.js';
import Unset from './unset.js';
import UpdateKeys from './updatekeys.js';
import Validate from './validate.js';

export const commands = {
  access: Access,
  apply: Apply,
  'config:import': ConfigImport,
  decrypt: Decrypt,
  diff: Diff,
  edit: Edit,
  encrypt: Encrypt,
  exec: Exec,
  'git:install': GitInstall,
  'git:merge-driver': GitMergeDriver,
  'git:textconv': GitTextconv,
  guard: Guard,
  keygen: Keygen,
  krm: Krm,
  'kustomize:generate': KustomizeGenerate,
  'kustomize:install-plugin': KustomizeInstallPlugin,
  plan: Plan,
  'recipients:add': RecipientsAdd,
  'recipients:list': RecipientsList,
  'recipients:remove': RecipientsRemove,
  render: Render,
  rotate: Rotate,
  set: SetCommand,
  status: Status,
  unset: Unset,
  updatekeys: UpdateKeys,
  validate: Validate,
};

// oclif's explicit strategy reads the `default` export unless package.json names an identifier.
export default commands;
