/**
 * The SOPS message authentication code: SHA-512 over the plaintext bytes of every non-null
 * leaf in document order (only the encrypted ones with `mac_only_encrypted`), as 128
 * upper-case hex characters, stored encrypted with AAD = `lastmodified`.
 */
import { createHash, type Hash } from 'node:crypto';

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
