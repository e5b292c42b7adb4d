/**
 * The command map oclif loads (`"strategy": "explicit"` in package.json): one line per command,
 * key = command id (use spaces-free ids; `topicSeparator` is a space, so `a:b` is typed `a b`).
 */
import Decrypt from './decrypt.js';
import Edit from './edit.js';
import Encrypt from './encrypt.js';
import Keygen from './keygen.js';
import SetCommand from './set.js';
import Status from './status.js';
import Unset from './unset.js';

export const commands = {
  decrypt: Decrypt,
  edit: Edit,
  encrypt: Encrypt,
  keygen: Keygen,
  set: SetCommand,
  status: Status,
  unset: Unset,
};

// oclif's explicit strategy reads the `default` export unless package.json names an identifier.
export default commands;
