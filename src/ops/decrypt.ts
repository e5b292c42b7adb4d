/**
 * `decrypt`: an encrypted file to its plaintext, in the same layout (or converted to another
 * format), optionally one extracted value.
 */
import { TreePathError } from '../errors.js';
import { getAtPath, parseTreePath } from '../format/paths.js';
import YAML from 'yaml';
import { cloneNode, notText, toPlain, type MapNode, type Node } from '../format/tree.js';
import { formatFromPath, storeFor } from '../stores/index.js';
import type { FileFormat } from '../stores/store.js';
import { keySources, type KeyOptions, type OpsContext } from './context.js';
import {
  asEncrypted,
  documentBytes,
  loadDocument,
  openDocument,
  refuseBinaryContent,
  warnUndecryptableComments,
} from '../document/document.js';
import { inFile, readBytes } from './read.js';
import { utf8Text } from '../util/utf8.js';

export interface DecryptOptions extends KeyOptions {
  inputType?: FileFormat;
  outputType?: FileFormat;
  /** SOPS-style path (`["a"]["b"]`) or dotted path of the value to print. */
  extract?: string;
  ignoreMac?: boolean;
}

export interface DecryptResult {
  /** The plaintext output, exactly (binary content need not be text). */
  bytes: Buffer;
  /**
   * The same output as text.
   * @throws UnsupportedDocumentError when read for binary content that is not valid UTF-8
   * (read `bytes`): never a text with U+FFFD in place of the bytes.
   */
  readonly text: string;
  format: FileFormat;
  /** Which master key unwrapped the data key (`age:age1…`). */
  unwrappedBy: string[];
  macValid: boolean;
}

/** Decrypted bytes as `--json` carries them: the text when it is UTF-8, else base64. */
export function plaintextFields(bytes: Buffer): { plaintext: string } | { plaintextBase64: string } {
  const text = utf8Text(bytes);
  return text === undefined ? { plaintextBase64: bytes.toString('base64') } : { plaintext: text };
}

/**
 * Decrypts the file at `path`.
 * @throws ReadError, ParseError, NotSopsFileError, NoKeyError (128), MacMismatchError (51),
 * DecryptionError (51), TreePathError (91) for a missing `--extract` path.
 */
export async function decryptFile(path: string, ctx: OpsContext, opts: DecryptOptions = {}): Promise<DecryptResult> {
  const input = await readBytes(path);
  return inFile(path, () => decryptText(input, path, ctx, opts));
}

/** {@link decryptFile} on content already read (text, or the file's bytes). */
export async function decryptText(
  input: string | Uint8Array,
  file: string,
  ctx: OpsContext,
  opts: DecryptOptions = {},
): Promise<DecryptResult> {
  const inputType = opts.inputType ?? formatFromPath(file);
  const enc = asEncrypted(loadDocument(input, file, inputType));
  const sources = await keySources(ctx, opts);
  const opened = await openDocument(enc, sources, { ignoreMac: opts.ignoreMac ?? false });
  if (!opened.macValid) ctx.warn('MAC NOT VERIFIED (--ignore-mac): the content may have been tampered with');
  warnUndecryptableComments(opened, file, ctx.warn);
  const outputType = opts.outputType ?? inputType;
  const { doc } = opened;
  let out: string | Buffer;
  if (opts.extract !== undefined) {
    out = extract(doc.documents, opts.extract, outputType);
  } else if (outputType === inputType) {
    doc.metadata = undefined;
    out = documentBytes(doc);
  } else {
    if (outputType !== 'binary') refuseBinaryContent(doc.documents);
    out = documentBytes(storeFor(outputType).create(doc.documents.map((d) => cloneNode(d))));
  }
  const bytes = typeof out === 'string' ? Buffer.from(out, 'utf8') : out;
  const text = typeof out === 'string' ? out : utf8Text(out);
  return {
    bytes,
    get text() {
      if (text === undefined) throw notText();
      return text;
    },
    format: outputType,
    unwrappedBy: opened.unwrappedBy,
    macValid: opened.macValid,
  };
}

/** SOPS prints an extracted scalar as its bare text (binary content as its bytes) and a subtree in the output format. */
function extract(documents: MapNode[], pathText: string, outputType: FileFormat): string | Buffer {
  const path = parseTreePath(pathText);
  const node: Node | undefined = getAtPath(documents, path);
  if (node === undefined) throw new TreePathError('component not found', { path });
  if (node.kind === 'scalar') {
    const v = node.value;
    if (v.type === 'null') return 'null';
    if (v.type === 'bytes') return v.value;
    return typeof v.value === 'string' ? v.value : String(v.value);
  }
  if (node.kind === 'map')
    return storeFor(outputType === 'binary' ? 'yaml' : outputType)
      .create([cloneNode(node)])
      .serialize();
  // A list has no store of its own (stores hold mappings): print it as JSON or YAML.
  const plain = toPlain(node);
  return outputType === 'json'
    ? `${JSON.stringify(plain, null, '\t')}\n`
    : YAML.stringify(plain, { indent: 4, lineWidth: 0 });
}
