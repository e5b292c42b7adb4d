/**
 * The textconv use-case (`diff.sealant.textconv`): the stable text view of the temporary copy
 * of a file git hands over, decrypted when an age identity opens it (`git/textconv.ts`).
 */
import { textconvView, type TextconvMode } from '../git/textconv.js';
import { utf8Text } from '../util/utf8.js';
import { keySources, type OpsContext } from './context.js';
import { readBytes } from './read.js';

/** What to print for the file: its text view, or its bytes as they are when it is not text. */
export type TextconvOutput = { mode: TextconvMode; text: string } | { mode: 'raw'; bytes: Buffer };

/**
 * The text view of `file`. Not UTF-8 means not a SOPS file: its bytes come back unchanged (git
 * shows the content as it is, never a "repaired" copy). Only age identities are tried: `git log
 * -p` runs this once per revision and must not wait on AWS or gpg.
 * @throws ReadError when `file` cannot be read.
 */
export async function textconvFile(ctx: OpsContext, file: string): Promise<TextconvOutput> {
  const bytes = await readBytes(file);
  const text = utf8Text(bytes);
  if (text === undefined) return { mode: 'raw', bytes };
  const all = await keySources(ctx, {});
  const sources = all.age.recipients().length === 0 ? undefined : { age: all.age };
  return textconvView(text, file, sources);
}
