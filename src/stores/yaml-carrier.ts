/**
 * How a scalar's YAML style survives encryption. The value SOPS encrypts is the string go-yaml
 * reads, so the way it was written (plain or quoted, literal or folded, its chomping) is not in
 * the ciphertext; it rides on how the `ENC[…]` string itself is written (its carrier). The
 * carrier depends only on how the author wrote the scalar, never on its value: two values
 * written alike give carriers that differ only in their ciphertexts, so the encrypted file tells
 * nothing about a value that sops's own output does not (a block carrier does show that the
 * value was written as a block scalar). Every form below is read by go-yaml (and so by sops) as
 * exactly the `ENC[…]` string:
 *
 * - block context: plain `ENC[…]` for plain text, `'ENC[…]'` and `"ENC[…]"` for quoted text.
 *   Plain text decrypts as the serializer writes any string: plain where every YAML reader reads
 *   it back unchanged, else double-quoted (`k: yes`, which only go-yaml reads as a string, comes
 *   back as `k: "yes"`, as sops writes it).
 * - a block scalar becomes a block scalar holding the ciphertext with the content at the
 *   original's column; its header says the author's chomping: `|-`/`>-` for clip, an
 *   indentation indicator N (the content's offset from the parent's column) before the `-` for
 *   strip (`|2-`), after it for keep (`|-2`). Content more than 9 columns in cannot take the
 *   indicator: `|-`, and the value comes back with the chomping it needs.
 * - flow context (`[a, b]`, `{x: y}`), where `ENC[…]` must be quoted: `'ENC[…]'` for single
 *   quotes, `"ENC[…]"` for plain text (decrypted plain where every reader reads it back, else
 *   double-quoted), and for double quotes `"ENC[…]\x5D"`: the closing bracket escaped.
 * - older versions also wrote `\x5D"` in block context for `y`-like plain text: it decrypts as
 *   plain text does, and re-encryption writes it as plain `ENC[…]`.
 *
 * Decryption reads the form back into a {@link StyleHint}; a hint that no longer fits the value
 * (after `set` changed it) is ignored and the value written as usual.
 */
import type { ScalarStyle } from '../format/tree.js';
import { doubleQuote, singleQuote, type Chomp } from './yaml-resolve.js';

/** How to write a decrypted string so that it reads as it was written before encryption. */
export interface StyleHint {
  style: ScalarStyle;
  chomp?: Chomp;
}

/**
 * What the serializer knows about the scalar an encrypted value replaces or came from: how it
 * was written, not its value (so that the carrier cannot depend on the value).
 */
export interface CarrierSource {
  style: ScalarStyle;
  /** The scalar's token (flow) or block header, as written. */
  token: string;
  inFlow: boolean;
  /** An explicit tag decides the type: no marker is needed, or added. */
  tagged: boolean;
  /** Columns of a block scalar's content and of its parent collection. */
  contentCol?: number | undefined;
  parentCol: number;
}

/** An encrypted value as written: one token, or a block header and its one content line. */
export type CarrierText = { kind: 'flow'; text: string } | { kind: 'block'; header: string; line: string };

const FLIP_END = '\\x5D"';

function flipped(token: string): string {
  return `${token.slice(0, -2)}${FLIP_END}`;
}

interface Header {
  indicator: '|' | '>';
  chomp: Chomp;
  digit: string;
  digitFirst: boolean;
}

function parseHeader(header: string): Header | undefined {
  const m = /^([|>])(?:([1-9])([+-]?)|([+-])([1-9])?)?$/.exec(header);
  if (m === null) return undefined;
  const chompChar = m[3] ?? m[4] ?? '';
  return {
    indicator: m[1] as '|' | '>',
    chomp: chompChar === '-' ? 'strip' : chompChar === '+' ? 'keep' : 'clip',
    digit: m[2] ?? m[5] ?? '',
    digitFirst: m[2] !== undefined,
  };
}

/**
 * How `enc` is written in place of the plaintext scalar `orig` so that decryption can write the
 * plaintext back the same way. Only the way `orig` was written decides: never its value.
 */
export function carrierFor(enc: string, orig: CarrierSource): CarrierText {
  if (orig.style === 'single') return { kind: 'flow', text: singleQuote(enc) ?? doubleQuote(enc) };
  if (orig.style === 'literal' || orig.style === 'folded') {
    const col = orig.contentCol ?? orig.parentCol + 2;
    const offset = col - orig.parentCol;
    const chomp = parseHeader(orig.token)?.chomp ?? 'clip';
    let marker = '-';
    if (chomp !== 'clip' && offset >= 1 && offset <= 9) marker = chomp === 'strip' ? `${offset}-` : `-${offset}`;
    return { kind: 'block', header: (orig.style === 'literal' ? '|' : '>') + marker, line: ' '.repeat(col) + enc };
  }
  if (orig.tagged) return { kind: 'flow', text: orig.style === 'double' || orig.inFlow ? doubleQuote(enc) : enc };
  if (orig.inFlow)
    return { kind: 'flow', text: orig.style === 'double' ? flipped(doubleQuote(enc)) : doubleQuote(enc) };
  return { kind: 'flow', text: orig.style === 'double' ? doubleQuote(enc) : enc };
}

/**
 * `enc` written the way the encrypted value `carrier` was (a re-encrypted or changed value). A
 * block-context `"ENC[…]\x5D"`, which older versions wrote for `y`-like plain text, becomes
 * plain `ENC[…]`: it decrypts the same and no longer tells what the text was.
 */
export function sameCarrier(enc: string, carrier: CarrierSource): CarrierText {
  if (carrier.style === 'literal' || carrier.style === 'folded') {
    const col = carrier.contentCol ?? carrier.parentCol + 2;
    return { kind: 'block', header: carrier.token, line: ' '.repeat(col) + enc };
  }
  if (carrier.style === 'single') return { kind: 'flow', text: singleQuote(enc) ?? doubleQuote(enc) };
  const flip = carrier.style === 'double' && carrier.token.endsWith(FLIP_END);
  if (carrier.style === 'double' && (carrier.inFlow || !flip))
    return { kind: 'flow', text: flip ? flipped(doubleQuote(enc)) : doubleQuote(enc) };
  return { kind: 'flow', text: carrier.inFlow ? doubleQuote(enc) : enc };
}

/** How to write the plaintext of the encrypted scalar `carrier`. */
export function hintFor(carrier: CarrierSource): StyleHint {
  switch (carrier.style) {
    case 'literal':
    case 'folded': {
      const header = parseHeader(carrier.token);
      if (header === undefined || header.chomp !== 'strip' || header.digit === '') return { style: carrier.style };
      return { style: carrier.style, chomp: header.digitFirst ? 'strip' : 'keep' };
    }
    case 'double': {
      if (carrier.tagged) return { style: 'double' };
      // Flow: `"ENC[…]"` was plain text, `\x5D"` double quotes. Block: `\x5D"` is an older file's plain text.
      return { style: carrier.inFlow !== carrier.token.endsWith(FLIP_END) ? 'plain' : 'double' };
    }
    default:
      return { style: carrier.style };
  }
}
