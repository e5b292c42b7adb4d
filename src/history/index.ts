/** Git history of SOPS files for rotation planning: value ages, data-key eras, exposure. */
export {
  exposure,
  fileHistory,
  type DataKeyEra,
  type FileHistory,
  type FileHistoryEntry,
  type FileHistoryOptions,
  type ValueAge,
} from './history.js';
export { fileLog } from './log.js';
