/**
 * How a scalar's YAML style survives encryption. The value SOPS encrypts is the string go-yaml
 * reads, so the way it was written (plain or quoted, literal or folded, its chomping and
 * indentation) is not in the ciphertext; it rides on how the `ENC[…]` string itself is written.
 * Every form below is read by go-yaml (and so by sops) as exactly the `ENC[…]` string:
 *
 * - block context: plain `ENC[…]` for a plain value, `'ENC[…]'` and `"ENC[…]"` for quoted ones;
 *   a block scalar becomes a block scalar holding the ciphertext, `|-` or `>-` with the content
 *   at the original's column. Where the value alone does not tell the original chomping (`|+`
 *   with one final line break, `|-` or `|+` at the end of a file without a final line break),
 *   an indentation indicator says it: before the `-` for strip (`|2-`), after it for keep
 *   (`|-2`).
 * - flow context (`[a, b]`, `{x: y}`), where `ENC[…]` must be quoted: `'ENC[…]'` for single
 *   quotes; `"ENC[…]"` for plain text that every YAML reader reads back unquoted, or double
 *   quotes otherwise; the rarer opposite (double quotes that were not needed, or plain text
 *   such as `y` that only go-yaml reads as a string) ends with `\x5D"` — the closing bracket
 *   escaped. The same escape on a block-context `"ENC[…]"` means plain `y`-like text.
 *
 * Decryption reads the form back into a {@link StyleHint}; a hint that no longer fits the value
 * (after `set` changed it) is ignored and the value written as usual.
 */
import type { ScalarStyle } from '../format/tree.js';
import { canBePlain, chompFor, doubleQuote, singleQuote, type Chomp } from './yaml-resolve.js';

/** How to write a decrypted string so that it reads as it was written before encryption. */
export interface StyleHint {
  style: ScalarStyle;
  chomp?: Chomp;
  /** Plain wherever go-yaml reads the text back as the same string. */
  goPlain?: boolean;
}

/** What the serializer knows about the scalar an encrypted value replaces or came from. */
export interface ScalarSource {
  /** The scalar's value as loaded. */
  value: string;
  style: ScalarStyle;
  /** The scalar's token (flow) or block header, as written. */
  token: string;
  inFlow: boolean;
  /** The block scalar ended the file without a line break. */
  atEnd: boolean;
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
 * plaintext back the same way.
 */
export function carrierFor(enc: string, orig: ScalarSource): CarrierText {
  const v = orig.value;
  if (orig.style === 'single') return { kind: 'flow', text: singleQuote(enc) ?? doubleQuote(enc) };
  if (orig.style === 'literal' || orig.style === 'folded') {
    const header = parseHeader(orig.token);
    const col = orig.contentCol ?? orig.parentCol + 2;
    const indicator = orig.style === 'literal' ? '|' : '>';
    let marker = '-';
    const offset = col - orig.parentCol;
    if (
      header !== undefined &&
      header.chomp !== chompFor(v, { atEnd: orig.atEnd, allowKeep: true }) &&
      offset >= 1 &&
      offset <= 9
    ) {
      marker = header.chomp === 'strip' ? `${offset}-` : `-${offset}`;
    }
    return { kind: 'block', header: indicator + marker, line: ' '.repeat(col) + enc };
  }
  if (orig.tagged) return { kind: 'flow', text: orig.style === 'double' || orig.inFlow ? doubleQuote(enc) : enc };
  if (orig.inFlow) {
    const autoPlain = canBePlain(v, 'flow');
    const flip = orig.style === 'plain' ? !autoPlain : autoPlain;
    return { kind: 'flow', text: flip ? flipped(doubleQuote(enc)) : doubleQuote(enc) };
  }
  if (orig.style === 'double') return { kind: 'flow', text: doubleQuote(enc) };
  return canBePlain(v, 'block') || v.includes('\n')
    ? { kind: 'flow', text: enc }
    : { kind: 'flow', text: flipped(doubleQuote(enc)) };
}

/** `enc` written the way the encrypted value `carrier` was (a re-encrypted or changed value). */
export function sameCarrier(enc: string, carrier: ScalarSource): CarrierText {
  if (carrier.style === 'literal' || carrier.style === 'folded') {
    const col = carrier.contentCol ?? carrier.parentCol + 2;
    return { kind: 'block', header: carrier.token, line: ' '.repeat(col) + enc };
  }
  if (carrier.style === 'single') return { kind: 'flow', text: singleQuote(enc) ?? doubleQuote(enc) };
  if (carrier.style === 'double')
    return { kind: 'flow', text: carrier.token.endsWith(FLIP_END) ? flipped(doubleQuote(enc)) : doubleQuote(enc) };
  return { kind: 'flow', text: carrier.inFlow ? doubleQuote(enc) : enc };
}

/** How to write `value`, the plaintext of the encrypted scalar `carrier`. */
export function hintFor(value: string, carrier: ScalarSource): StyleHint {
  switch (carrier.style) {
    case 'literal':
    case 'folded': {
      const header = parseHeader(carrier.token);
      if (header === undefined || header.chomp !== 'strip' || header.digit === '') return { style: carrier.style };
      return { style: carrier.style, chomp: header.digitFirst ? 'strip' : 'keep' };
    }
    case 'double': {
      if (carrier.tagged) return { style: 'double' };
      const flip = carrier.token.endsWith(FLIP_END);
      const plain = carrier.inFlow ? canBePlain(value, 'flow') !== flip : flip;
      return plain ? { style: 'plain', goPlain: true } : { style: 'double' };
    }
    default:
      return { style: carrier.style };
  }
}
