/**
 * `decrypt`: an encrypted file to its plaintext, in the same layout (or converted to another
 * format), optionally one extracted value.
 */
import { TreePathError } from '../errors.js';
import { getAtPath, parseTreePath } from '../format/paths.js';
import YAML from 'yaml';
import { cloneNode, toPlain, type MapNode, type Node } from '../format/tree.js';
import { formatFromPath, storeFor } from '../stores/index.js';
import type { FileFormat } from '../stores/store.js';
import { keySources, type KeyOptions, type OpsContext } from './context.js';
import { asEncrypted, inFile, loadDocument, openDocument, readText, warnUndecryptableComments } from './document.js';

export interface DecryptOptions extends KeyOptions {
  inputType?: FileFormat;
  outputType?: FileFormat;
  /** SOPS-style path (`["a"]["b"]`) or dotted path of the value to print. */
  extract?: string;
  ignoreMac?: boolean;
}

export interface DecryptResult {
  /** The plaintext output. */
  text: string;
  format: FileFormat;
  /** Which master key unwrapped the data key (`age:age1…`). */
  unwrappedBy: string[];
  macValid: boolean;
}

/**
 * Decrypts the file at `path`.
 * @throws ReadError, ParseError, NotSopsFileError, NoKeyError (128), MacMismatchError (51),
 * DecryptionError (51), TreePathError (91) for a missing `--extract` path.
 */
export async function decryptFile(path: string, ctx: OpsContext, opts: DecryptOptions = {}): Promise<DecryptResult> {
  const text = await readText(path);
  return inFile(path, () => decryptText(text, path, ctx, opts));
}

/** {@link decryptFile} on text already read. */
export async function decryptText(text: string, file: string, ctx: OpsContext, opts: DecryptOptions = {}): Promise<DecryptResult> {
  const inputType = opts.inputType ?? formatFromPath(file);
  const enc = asEncrypted(loadDocument(text, file, inputType));
  const sources = await keySources(ctx, opts);
  const opened = await openDocument(enc, sources, { ignoreMac: opts.ignoreMac ?? false });
  if (!opened.macValid) ctx.warn('MAC NOT VERIFIED (--ignore-mac): the content may have been tampered with');
  warnUndecryptableComments(opened, file, ctx.warn);
  const outputType = opts.outputType ?? inputType;
  const { doc } = opened;
  let out: string;
  if (opts.extract !== undefined) {
    out = extract(doc.documents, opts.extract, outputType);
  } else if (outputType === inputType) {
    doc.metadata = undefined;
    out = doc.serialize();
  } else {
    out = storeFor(outputType).create(doc.documents.map((d) => cloneNode(d))).serialize();
  }
  return { text: out, format: outputType, unwrappedBy: opened.unwrappedBy, macValid: opened.macValid };
}

/** SOPS prints an extracted scalar as its bare text and a subtree in the output format. */
function extract(documents: MapNode[], pathText: string, outputType: FileFormat): string {
  const path = parseTreePath(pathText);
  const node: Node | undefined = getAtPath(documents, path);
  if (node === undefined) throw new TreePathError('component not found', { path });
  if (node.kind === 'scalar') {
    const v = node.value;
    if (v.type === 'null') return 'null';
    return typeof v.value === 'string' ? v.value : String(v.value);
  }
  if (node.kind === 'map') return storeFor(outputType === 'binary' ? 'yaml' : outputType).create([cloneNode(node)]).serialize();
  // A list has no store of its own (stores hold mappings): print it as JSON or YAML.
  const plain = toPlain(node);
  return outputType === 'json' ? `${JSON.stringify(plain, null, '\t')}\n` : YAML.stringify(plain, { indent: 4, lineWidth: 0 });
}
