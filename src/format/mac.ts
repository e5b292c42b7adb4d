/**
 * The SOPS message authentication code: SHA-512 over the plaintext bytes of every non-null
 * leaf in document order (only the encrypted ones with `mac_only_encrypted`), as 128
 * upper-case hex characters, stored encrypted with AAD = `lastmodified`; and which leaves it
 * leaves out.
 */
import { createHash, type Hash } from 'node:crypto';
import { isEncValue } from './codec.js';
import { walk, type MapNode, type ScalarValue, type TreePath } from './tree.js';

/** SHA-256("sops"): fed first when `mac_only_encrypted` is set (`sops.go` MACOnlyEncryptedInitialization). */
const MAC_ONLY_ENCRYPTED_INIT = createHash('sha256').update('sops').digest();

export class MacBuilder {
  private readonly hash: Hash = createHash('sha512');
  readonly macOnlyEncrypted: boolean;

  constructor(macOnlyEncrypted: boolean) {
    this.macOnlyEncrypted = macOnlyEncrypted;
    if (macOnlyEncrypted) this.hash.update(MAC_ONLY_ENCRYPTED_INIT);
  }

  /** Adds one leaf's plaintext bytes (skipped for clear leaves when `mac_only_encrypted`). */
  add(bytes: Uint8Array, encrypted: boolean): void {
    if (!this.macOnlyEncrypted || encrypted) this.hash.update(bytes);
  }

  /** The MAC as SOPS formats it (`%X`). */
  hex(): string {
    return this.hash.digest('hex').toUpperCase();
  }
}

/**
 * Whether the MAC vouches for a leaf: SOPS never encrypts a null or an empty string, and neither
 * adds a byte to the MAC, so a key holding one can be added or removed without the data key;
 * with `mac_only_encrypted` no value in clear is covered either.
 */
export function macCovers(value: ScalarValue, encrypted: boolean, macOnlyEncrypted: boolean): boolean {
  if (value.type === 'null' || (value.type === 'str' && value.value === '')) return false;
  return encrypted || !macOnlyEncrypted;
}

/** One leaf the MAC does not cover. */
export interface UncoveredLeaf {
  /** Index of the YAML document (0 for every other format). */
  doc: number;
  path: TreePath;
  value: ScalarValue;
}

/**
 * The leaves of still-encrypted documents that the MAC does not cover ({@link macCovers}):
 * anyone who can edit the file can add, change or remove them without a key, and a decrypt
 * cannot tell. Never throws.
 */
export function macUncovered(documents: readonly MapNode[], macOnlyEncrypted: boolean): UncoveredLeaf[] {
  const out: UncoveredLeaf[] = [];
  documents.forEach((d, doc) => {
    for (const v of walk(d)) {
      if (
        v.kind === 'scalar' &&
        !macCovers(v.node.value, v.node.value.type === 'str' && isEncValue(v.node.value.value), macOnlyEncrypted)
      )
        out.push({ doc, path: v.path, value: v.node.value });
    }
  });
  return out;
}
