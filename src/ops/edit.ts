/**
 * `edit`: decrypt into a 0600 file inside a private temporary directory, run the user's editor,
 * and write the changes back with every unchanged value keeping its ciphertext. The directory
 * is removed on success, on editor failure and on SIGINT/SIGTERM.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ExitCode, SealantError } from '../errors.js';
import { decryptDocuments } from '../format/cipher.js';
import { reconcileDocuments } from '../format/reconcile.js';
import { writeFileAtomic } from '../fsx/atomic.js';
import { withPrivateTempDir } from '../fsx/private-temp.js';
import { formatFromPath } from '../stores/index.js';
import type { FileFormat } from '../stores/store.js';
import { keySources, type KeyOptions, type OpsContext } from './context.js';
import { asEncrypted, inFile, loadDocument, openDocument, readText, warnUndecryptableComments } from './document.js';
import { sealDocument } from './seal.js';

export interface EditOptions extends KeyOptions {
  inputType?: FileFormat;
  /** Re-open the editor when the edited text does not parse (interactive use). */
  retryOnInvalid?: boolean;
  /** The editor command; default `$SOPS_EDITOR`, `$EDITOR`, then `vi`. */
  editor?: string;
}

export interface EditResult {
  file: string;
  changed: boolean;
}

/** The editor command line SOPS would use. */
export function editorCommand(env: Readonly<Record<string, string | undefined>>): string {
  return env.SOPS_EDITOR || env.EDITOR || 'vi';
}

function runEditor(editor: string, file: string, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  return new Promise((resolve, reject) => {
    // Through the shell, as git and sops do, so EDITOR="code --wait" works.
    const child = spawn('/bin/sh', ['-c', `${editor} "$1"`, 'sealant-editor', file], { stdio: 'inherit', env: env as NodeJS.ProcessEnv });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal !== null ? 128 : 1)));
  });
}

/**
 * Edits the encrypted file at `path` interactively.
 * @throws SealantError NOT_MODIFIED (exit 200, as SOPS) when the file was saved unchanged;
 * EDITOR_FAILED when the editor exits non-zero; ParseError when the edited text is invalid
 * (the original file is left untouched in every failure case).
 */
export async function editFile(path: string, ctx: OpsContext, opts: EditOptions = {}): Promise<EditResult> {
  const text = await readText(path);
  return inFile(path, async () => {
    const format = opts.inputType ?? formatFromPath(path);
    const opened = await openDocument(asEncrypted(loadDocument(text, path, format)), await keySources(ctx, opts));
    warnUndecryptableComments(opened, path, ctx.warn);
    const plainDoc = loadDocument(text, path, format);
    const enc = asEncrypted(plainDoc);
    decryptDocuments(plainDoc.documents, opened.dataKey, { selector: enc.selector, macOnlyEncrypted: enc.meta.macOnlyEncrypted, mac: enc.meta.mac, lastmodified: enc.meta.lastmodified });
    plainDoc.metadata = undefined;
    const plaintext = plainDoc.serialize();

    const edited = await withPrivateTempDir(async (dir) => {
      const tmp = join(dir, basename(path));
      await writeFile(tmp, plaintext, { mode: 0o600 });
      for (;;) {
        const code = await runEditor(opts.editor ?? editorCommand(ctx.env), tmp, ctx.env);
        if (code !== 0) throw new SealantError('EDITOR_FAILED', ExitCode.generic, `editor exited with code ${code}; the file was not changed`);
        const after = await readFile(tmp, 'utf8');
        if (after === plaintext) return undefined;
        try {
          return loadDocument(after, path, format);
        } catch (e) {
          if (!(opts.retryOnInvalid ?? false) || !(e instanceof SealantError)) throw e;
          ctx.warn(`${e.toOneLine()} — reopening the editor (your changes are kept)`);
        }
      }
    });
    if (edited === undefined) throw notModified();
    reconcileDocuments(opened.doc.documents, edited.documents);
    const out = sealDocument(opened, text, ctx.now());
    if (out === undefined) throw notModified();
    await writeFileAtomic(path, out);
    return { file: path, changed: true };
  });
}

function notModified(): SealantError {
  return new SealantError('NOT_MODIFIED', ExitCode.fileNotModified, 'file has not changed, nothing written');
}

