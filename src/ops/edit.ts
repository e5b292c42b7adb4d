/**
 * `edit`: decrypt into a 0600 file inside a private temporary directory, run the user's editor,
 * and write the changes back with every unchanged value keeping its ciphertext. The directory
 * is removed on success, on editor failure and on SIGINT/SIGTERM. A file that does not exist
 * is created from an example document, as sops does.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, lstat, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, delimiter, dirname, join } from 'node:path';
import { SealantError, WriteError } from '../errors.js';
import { reconcileDocuments } from '../format/reconcile.js';
import { writeFileAtomic } from '../fsx/atomic.js';
import { withPrivateTempDir } from '../fsx/private-temp.js';
import { map, scalar, seq, str, type MapNode } from '../format/tree.js';
import { formatFromPath, storeFor } from '../stores/index.js';
import type { FileFormat, StoreDocument } from '../stores/store.js';
import { loadForWrite } from './authority.js';
import { keySources, type KeyOptions, type OpsContext } from './context.js';
import {
  asEncrypted,
  decryptEncrypted,
  documentBytes,
  loadDocument,
  openDocument,
  warnUndecryptableComments,
} from '../document/document.js';
import { inFile, readText } from './read.js';
import { encryptSettings, encryptText } from './encrypt.js';
import { sealDocument } from '../document/seal.js';

export interface EditOptions extends KeyOptions {
  inputType?: FileFormat;
  /** Re-open the editor when the edited text does not parse (interactive use). */
  retryOnInvalid?: boolean;
  /** The editor command; default `$SOPS_EDITOR`, `$EDITOR`, then vim, nano or vi on `PATH`. */
  editor?: string;
  /**
   * `--config`: for an existing file, the config that decides whether its `sops` block may be
   * kept; for a new one, where its recipients come from (as `encrypt` takes it).
   */
  configPath?: string;
  /** For a file that does not exist yet: recipients (`--age`), as `encrypt` takes them. */
  newFile?: { age: string[] };
}

export interface EditResult {
  file: string;
  changed: boolean;
}

/** The editors sops looks for on `PATH` when neither `SOPS_EDITOR` nor `EDITOR` is set, in its order. */
const FALLBACK_EDITORS = ['vim', 'nano', 'vi'];

/**
 * The editor command line SOPS would use: `$SOPS_EDITOR`, `$EDITOR`, else the first of vim,
 * nano and vi on `PATH`.
 * @throws SealantError NO_EDITOR (exit 201, sops's NoEditorFound) when none is set or found.
 */
export async function editorCommand(env: Readonly<Record<string, string | undefined>>): Promise<string> {
  const set = env.SOPS_EDITOR || env.EDITOR;
  if (set) return set;
  for (const name of FALLBACK_EDITORS) {
    for (const dir of (env.PATH ?? '').split(delimiter)) {
      if (dir === '') continue;
      const ok = await access(join(dir, name), constants.X_OK).then(
        () => true,
        () => false,
      );
      if (ok) return name;
    }
  }
  throw new SealantError(
    'NO_EDITOR',
    'no editor found: SOPS_EDITOR and EDITOR are not set, and none of vim, nano, vi is on PATH',
    { hint: 'set EDITOR (e.g. EDITOR=nano)' },
  );
}

function runEditor(editor: string, file: string, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  return new Promise((resolve, reject) => {
    // Through the shell, as git and sops do, so EDITOR="code --wait" works.
    const child = spawn('/bin/sh', ['-c', `${editor} "$1"`, 'sealant-editor', file], {
      stdio: 'inherit',
      env: env as NodeJS.ProcessEnv,
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal !== null ? 128 : 1)));
  });
}

/**
 * Edits the encrypted file at `path` interactively. When `path` does not exist, the editor
 * opens on an example document (as in sops) and what is saved is encrypted for the recipients
 * `encrypt` would use: `opts.newFile.age`, `SOPS_AGE_RECIPIENTS`, or the file's environment.
 * @throws SealantError NOT_MODIFIED (exit 200, as SOPS) when the file was saved unchanged;
 * NO_EDITOR (201, as SOPS) when no editor is set or found; EDITOR_FAILED when the editor exits
 * non-zero; ParseError when the edited text is invalid;
 * WeakenedMetadataError (53) when the config owns the file and its `sops` block is weaker
 * (the original file is left untouched in every failure case); NoRecipientsError (111), before
 * the editor opens, for a new file nothing says whom to encrypt for.
 */
export async function editFile(path: string, ctx: OpsContext, opts: EditOptions = {}): Promise<EditResult> {
  if (await isMissing(path)) return inFile(path, () => editNewFile(path, ctx, opts));
  const text = await readText(path);
  return inFile(path, async () => {
    const format = opts.inputType ?? formatFromPath(path);
    // Before the editor opens: a refusal after the user typed their change would lose it.
    const encrypted = await loadForWrite(text, path, ctx, {
      stanzas: 'kept',
      format,
      owner: { configPath: opts.configPath },
    });
    const opened = await openDocument(encrypted, await keySources(ctx, opts));
    warnUndecryptableComments(opened, path, ctx.warn);
    const plainDoc = loadDocument(text, path, format);
    decryptEncrypted(asEncrypted(plainDoc), opened.dataKey);
    plainDoc.metadata = undefined;
    const plaintext = documentBytes(plainDoc);

    const edited = await editPlaintext(plaintext, path, format, ctx, opts);
    if (edited === undefined) throw notModified();
    reconcileDocuments(opened.doc.documents, edited.doc.documents);
    const out = sealDocument(opened, text, ctx.now());
    if (out === undefined) throw notModified();
    await writeFileAtomic(path, out);
    return { file: path, changed: true };
  });
}

async function isMissing(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** sops's `edit` of a file that does not exist: start from an example, encrypt what is saved. */
async function editNewFile(path: string, ctx: OpsContext, opts: EditOptions): Promise<EditResult> {
  const format = opts.inputType ?? formatFromPath(path);
  // Whom to encrypt for is settled before the editor opens, so no typing is lost to a missing recipient.
  const settings = await encryptSettings(path, ctx, {
    age: opts.newFile?.age ?? [],
    kms: [],
    pgp: [],
    ...(opts.configPath === undefined ? {} : { configPath: opts.configPath }),
  });
  // What is typed in the editor would be lost if the file could not be created afterwards.
  if (!(await isDirectory(dirname(path))))
    throw new WriteError('cannot create the file: its directory does not exist', { file: path });
  const edited = await editPlaintext(exampleText(format), path, format, ctx, opts);
  if (edited === undefined) throw notModified();
  const r = await encryptText(edited.bytes, path, ctx, { ...settings, inputType: format });
  await writeFileAtomic(path, r.text, { exclusive: true });
  return { file: path, changed: true };
}

/**
 * Runs the editor on `plaintext` in a 0600 file inside a private temporary directory (removed
 * whatever happens) until it saves something that parses.
 * @returns the saved bytes and document, or undefined when it was saved unchanged.
 */
async function editPlaintext(
  plaintext: string | Uint8Array,
  path: string,
  format: FileFormat,
  ctx: OpsContext,
  opts: EditOptions,
): Promise<{ bytes: Buffer; doc: StoreDocument } | undefined> {
  const original = Buffer.from(plaintext);
  // Found before the plaintext is written anywhere.
  const editor = opts.editor ?? (await editorCommand(ctx.env));
  return withPrivateTempDir(async (dir) => {
    const tmp = join(dir, basename(path));
    await writeFile(tmp, plaintext, { mode: 0o600 });
    for (;;) {
      const code = await runEditor(editor, tmp, ctx.env);
      if (code !== 0)
        throw new SealantError('EDITOR_FAILED', `editor exited with code ${code}; the file was not changed`);
      const after = await readFile(tmp);
      if (after.equals(original)) return undefined;
      try {
        return { bytes: after, doc: loadDocument(after, path, format) };
      } catch (e) {
        if (!(opts.retryOnInvalid ?? false) || !(e instanceof SealantError)) throw e;
        ctx.warn(`${e.toOneLine()} — reopening the editor (your changes are kept)`);
      }
    }
  });
}

/** The example a new file starts from, as sops offers one, laid out by the format's own store. */
function exampleText(format: FileFormat): string {
  const welcome = 'Welcome to SOPS! Edit this file as you please!';
  const flat = (): MapNode =>
    map([
      ['hello', str(welcome)],
      ['example_key', str('example_value')],
    ]);
  let doc: MapNode;
  if (format === 'yaml' || format === 'json') {
    doc = flat();
    doc.items.push(
      { kind: 'entry', key: 'example_array', value: seq([str('example_value1'), str('example_value2')]) },
      { kind: 'entry', key: 'example_number', value: scalar({ type: 'float', value: 1234.56789 }) },
      {
        kind: 'entry',
        key: 'example_booleans',
        value: seq([scalar({ type: 'bool', value: true }), scalar({ type: 'bool', value: false })]),
      },
    );
  } else if (format === 'ini') {
    doc = map([['Welcome!', flat()]]);
  } else if (format === 'binary') {
    doc = map([['data', str(`${welcome}\n`)]]);
  } else {
    doc = flat();
  }
  return storeFor(format).create([doc]).serialize();
}

function notModified(): SealantError {
  return new SealantError('NOT_MODIFIED', 'file has not changed, nothing written');
}
