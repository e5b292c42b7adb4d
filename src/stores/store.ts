/**
 * A store turns one file syntax into the tree model and back, with no cryptography.
 *
 * Byte stability is the store's job: `load(text).serialize()` returns `text` unchanged, and after
 * edits only the bytes of nodes that changed are rewritten. Stores achieve this by remembering
 * the node objects they produced in `load` (with their source positions/tokens) and comparing,
 * on `serialize`, each node's current value with the value it had when loaded.
 */
import type { MapNode } from '../format/tree.js';

export type FileFormat = 'yaml' | 'json' | 'dotenv' | 'ini' | 'binary';

export const FILE_FORMATS: readonly FileFormat[] = ['yaml', 'json', 'dotenv', 'ini', 'binary'];

/** A loaded (or freshly created) document whose tree can be edited and written back. */
export interface StoreDocument {
  readonly format: FileFormat;
  /**
   * The data documents, without the `sops` metadata entry. YAML files may hold several
   * documents; every other format holds exactly one. Mutate in place (replace a scalar node's
   * `value`, add/remove entries); `serialize` picks the changes up.
   */
  documents: MapNode[];
  /**
   * The `sops` metadata block as a tree (for dotenv/INI: un-flattened from `sops_…` keys), or
   * `undefined` for a plaintext file. Set to `undefined` to write a plaintext file, or to a new
   * tree to write a new block.
   */
  metadata: MapNode | undefined;
  /**
   * The file's text for the current state. Nodes whose value is unchanged since `load` keep
   * their exact source bytes; a new `metadata` block is written in SOPS's layout for the
   * format. For YAML multi-document files, every document gets a copy of the metadata.
   * @throws UnsupportedDocumentError when the tree cannot be expressed in this format
   * (e.g. nested values in dotenv).
   */
  serialize(): string;
  /**
   * The file's bytes, for a store whose content need not be text (binary): exactly the loaded
   * bytes when unchanged. Stores without it write `serialize()` as UTF-8.
   */
  serializeBytes?(): Buffer;
}

export interface Store {
  readonly format: FileFormat;
  /**
   * Parses `text`. The `sops` key (dotenv/INI: `sops_…` keys / `[sops]` section) is split off
   * into `metadata`; every other top-level key stays in `documents`.
   * @param file - used in error messages only.
   * @throws ParseError with file and line for malformed input.
   * @throws UnsupportedDocumentError when the input is well-formed but not a SOPS-shaped
   * document (top level not a mapping, non-string keys, alias bombs, duplicate keys).
   */
  load(text: string, file?: string): StoreDocument;
  /**
   * A new document from a tree, written in SOPS's canonical layout for this format (YAML:
   * 4-space indent; JSON: tab indent; …). Used when converting between formats
   * (`--output-type`) and for `--extract`.
   */
  create(documents: MapNode[], metadata?: MapNode): StoreDocument;
}
