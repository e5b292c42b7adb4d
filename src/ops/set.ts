/**
 * `set` and `unset`: change one value of an encrypted file. Every other value keeps its exact
 * ciphertext, so `git diff` shows the changed value plus `mac` and `lastmodified`.
 */
import { writeFileAtomic } from '../fsx/atomic.js';
import { TreePathError } from '../errors.js';
import { parseTreePath, setAtPath, unsetAtPath } from '../format/paths.js';
import type { Node } from '../format/tree.js';
import { formatFromPath } from '../stores/index.js';
import type { FileFormat } from '../stores/store.js';
import { loadForWrite } from './authority.js';
import { keySources, type KeyOptions, type OpsContext } from './context.js';
import { openDocument } from '../document/document.js';
import { inFile, readText } from './read.js';
import { sealDocument } from '../document/seal.js';

export interface SetOptions extends KeyOptions {
  inputType?: FileFormat;
  /** `--config`: the config that decides whether the file's `sops` block may be kept. */
  configPath?: string;
}

export interface SetResult {
  file: string;
  path: (string | number)[];
  /** False when the file already held that value (nothing written). */
  changed: boolean;
}

async function modify(
  path: string,
  ctx: OpsContext,
  opts: SetOptions,
  edit: (docs: import('../format/tree.js').MapNode[]) => void,
): Promise<boolean> {
  const text = await readText(path);
  return inFile(path, async () => {
    const enc = await loadForWrite(text, path, ctx, {
      stanzas: 'kept',
      format: opts.inputType ?? formatFromPath(path),
      owner: { configPath: opts.configPath },
    });
    const opened = await openDocument(enc, await keySources(ctx, opts));
    edit(opened.doc.documents);
    const out = sealDocument(opened, text, ctx.now());
    if (out === undefined) return false;
    await writeFileAtomic(path, out);
    return true;
  });
}

/**
 * Sets the value at `treePath` (SOPS or dotted form) to `value`, creating missing maps.
 * @throws TreePathError (91), NoKeyError (128), MacMismatchError (51), WeakenedMetadataError
 * (53) when the config owns the file and its `sops` block is weaker, …
 */
export async function setValue(
  path: string,
  treePath: string,
  value: Node,
  ctx: OpsContext,
  opts: SetOptions = {},
): Promise<SetResult> {
  const parsed = parseTreePath(treePath);
  const changed = await modify(path, ctx, opts, (docs) => setAtPath(docs[0]!, parsed, value));
  return { file: path, path: parsed, changed };
}

/**
 * Removes the value at `treePath`.
 * @throws TreePathError (91) when nothing is there.
 */
export async function unsetValue(
  path: string,
  treePath: string,
  ctx: OpsContext,
  opts: SetOptions = {},
): Promise<SetResult> {
  const parsed = parseTreePath(treePath);
  const changed = await modify(path, ctx, opts, (docs) => {
    if (!unsetAtPath(docs[0]!, parsed)) throw new TreePathError('component not found', { path: parsed });
  });
  return { file: path, path: parsed, changed };
}
