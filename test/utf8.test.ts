/**
 * Strict UTF-8 decoding (`src/util/utf8.ts`): the offset of the first invalid byte, the error
 * text stores raise, and that nothing is ever "repaired" with U+FFFD.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ParseError } from '../src/errors.js';
import { decodeUtf8, invalidUtf8Offset, utf8Text } from '../src/util/utf8.js';
import { catchError } from './helpers/assert.js';

const b = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

describe('invalidUtf8Offset', () => {
  const cases: [string, Buffer, number][] = [
    ['valid ASCII', b('a: 1\n'), -1],
    ['valid multi-byte text and a real U+FFFD', b('é€😀\ufffd'), -1],
    ['a lone 0xFF', b('a: ', [0xff], '\n'), 3],
    ['a real U+FFFD before a bad byte', b('\ufffd', 'x', [0x80]), 4],
    ['after 2-, 3- and 4-byte characters', b('é€😀', [0xc3, 0x28]), 9],
    ['an overlong encoding of NUL', b('k=', [0xc0, 0x80]), 2],
    ['an encoded UTF-16 surrogate', b('ab', [0xed, 0xa0, 0x80]), 2],
    ['a code point beyond U+10FFFF', b([0xf4, 0x90, 0x80, 0x80]), 0],
    ['a sequence cut off at the end', b('abc', [0xe2, 0x82]), 3],
  ];
  for (const [what, bytes, want] of cases) test(what, () => assert.equal(invalidUtf8Offset(bytes), want));

  test('agrees with a strict decoder on random bytes: the prefix before it is valid, the byte there is not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (arr) => {
        const bytes = Buffer.from(arr);
        const at = invalidUtf8Offset(bytes);
        if (at === -1) return utf8Text(bytes) !== undefined;
        // A valid prefix, and no valid character starts at `at` (whatever follows).
        const prefixValid = utf8Text(bytes.subarray(0, at)) !== undefined;
        const startsValid = [1, 2, 3, 4].some(
          (n) => at + n <= bytes.length && utf8Text(bytes.subarray(at, at + n)) !== undefined,
        );
        return prefixValid && !startsValid;
      }),
      { numRuns: 2000 },
    );
  });
});

describe('utf8Text / decodeUtf8', () => {
  test('a leading byte-order mark is kept, not swallowed', () => {
    assert.equal(utf8Text(b([0xef, 0xbb, 0xbf], 'a: 1')), '\ufeffa: 1');
  });

  test('invalid bytes are refused with file, line and offset, never replaced', () => {
    assert.equal(utf8Text(b('x', [0xff])), undefined);
    const e = catchError(() => decodeUtf8(b('a: 1\nb: ', [0xfe], '\n'), 'secrets.yaml'));
    assert.ok(e instanceof ParseError);
    assert.equal(e.file, 'secrets.yaml');
    assert.equal(e.line, 2);
    assert.equal(e.exitCode, 2);
    assert.match(e.toOneLine(), /^secrets\.yaml:2: not valid UTF-8 text: invalid byte at offset 8$/);
  });
});
