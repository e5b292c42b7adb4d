/**
 * Shamir secret sharing over GF(2^8) with the AES polynomial x^8+x^4+x^3+x+1, byte-compatible
 * with SOPS (`shamir/shamir.go`, from HashiCorp Vault): a share is the y-bytes followed by one
 * x byte; SOPS gives group i the x coordinate i+1.
 */
import { randomBytes } from 'node:crypto';

function mul(a: number, b: number): number {
  let p = 0;
  for (let i = 0; i < 8; i++) {
    if (b & 1) p ^= a;
    const hi = a & 0x80;
    a = (a << 1) & 0xff;
    if (hi) a ^= 0x1b;
    b >>= 1;
  }
  return p;
}

function inv(a: number): number {
  // a^254 = a^-1 in GF(2^8)
  let r = 1;
  for (let i = 0; i < 254; i++) r = mul(r, a);
  return r;
}

/** Splits `secret` into `parts` shares, any `threshold` of which recover it. */
export function split(secret: Uint8Array, parts: number, threshold: number): Uint8Array[] {
  if (threshold < 2 || parts < threshold || parts > 255) throw new RangeError('invalid Shamir parameters');
  const shares = Array.from({ length: parts }, (_, i) => {
    const s = new Uint8Array(secret.length + 1);
    s[secret.length] = i + 1;
    return s;
  });
  for (let b = 0; b < secret.length; b++) {
    const coeffs = [secret[b]!, ...randomBytes(threshold - 1)];
    for (let i = 0; i < parts; i++) {
      const x = i + 1;
      let y = 0;
      for (let c = coeffs.length - 1; c >= 0; c--) y = mul(y, x) ^ coeffs[c]!;
      shares[i]![b] = y;
    }
  }
  return shares;
}

/**
 * Recovers the secret from shares (Lagrange interpolation at x = 0).
 * @throws RangeError when shares are malformed or share an x coordinate.
 */
export function combine(shares: readonly Uint8Array[]): Uint8Array {
  if (shares.length < 2) throw new RangeError('at least two shares are needed');
  const len = shares[0]!.length - 1;
  const xs = shares.map((s) => {
    if (s.length !== len + 1) throw new RangeError('shares differ in length');
    return s[len]!;
  });
  if (new Set(xs).size !== xs.length) throw new RangeError('duplicate share');
  const out = new Uint8Array(len);
  for (let b = 0; b < len; b++) {
    let acc = 0;
    for (let i = 0; i < shares.length; i++) {
      let basis = 1;
      for (let j = 0; j < shares.length; j++) {
        if (i === j) continue;
        basis = mul(basis, mul(xs[j]!, inv(xs[i]! ^ xs[j]!)));
      }
      acc ^= mul(shares[i]![b]!, basis);
    }
    out[b] = acc;
  }
  return out;
}
