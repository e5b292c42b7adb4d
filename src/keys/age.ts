/**
 * age key source (`age/keysource.go`): the data key is wrapped as a whole age file (ASCII
 * armored, one recipient per file) whose payload is the raw 32-byte key.
 */
import { armor, Decrypter, Encrypter } from 'age-encryption';
import { KeyFormatError } from '../errors.js';
import type { AgeStanza } from '../format/metadata.js';

/** Recipient forms age-encryption can encrypt to natively. */
const AGE_RECIPIENT_RE = /^age1(pq1)?[02-9ac-hj-np-z]+$/;

/**
 * Validates an age recipient string (`age1…` or post-quantum `age1pq1…`).
 * @throws KeyFormatError naming the (public) recipient when it is malformed.
 */
export function parseAgeRecipient(recipient: string): string {
  const r = recipient.trim();
  if (!AGE_RECIPIENT_RE.test(r)) throw new KeyFormatError(`invalid age recipient "${r.slice(0, 80)}"`, { hint: 'age recipients start with age1… (see `sealant keygen`)' });
  try {
    new Encrypter().addRecipient(r);
  } catch {
    throw new KeyFormatError(`invalid age recipient "${r.slice(0, 80)}"`);
  }
  return r;
}

/** Wraps `dataKey` for one recipient, as SOPS does (armored age file with a trailing newline). */
export async function wrapForAgeRecipient(recipient: string, dataKey: Uint8Array): Promise<AgeStanza> {
  const e = new Encrypter();
  e.addRecipient(recipient);
  const file = await e.encrypt(dataKey);
  return { recipient, enc: armor.encode(file) };
}

/** An identity with its recipient and a label of where it came from (never the key itself). */
export interface AgeIdentity {
  identity: string;
  recipient: string;
  source: string;
}

/** The age identities available to this run. */
export class AgeIdentities {
  readonly identities: readonly AgeIdentity[];

  constructor(identities: readonly AgeIdentity[]) {
    this.identities = identities;
  }

  /** Public keys of the identities (for "no key could decrypt" messages). */
  recipients(): string[] {
    return this.identities.map((i) => i.recipient);
  }

  /**
   * Unwraps one stanza. The identity whose recipient matches the stanza's is tried first, so a
   * file with many stanzas costs one X25519 operation; others are tried only if none matches
   * by name (e.g. a stanza written for an SSH key).
   * @returns the unwrapped key and the identity that did it, or null when none can.
   */
  async unwrap(stanza: AgeStanza): Promise<{ key: Uint8Array; identity: AgeIdentity } | null> {
    const matching = this.identities.filter((i) => i.recipient === stanza.recipient);
    const candidates = matching.length > 0 ? matching : [];
    let file: Uint8Array;
    try {
      file = armor.decode(stanza.enc);
    } catch {
      return null;
    }
    for (const identity of candidates) {
      const d = new Decrypter();
      d.addIdentity(identity.identity);
      try {
        return { key: await d.decrypt(file), identity };
      } catch {
        // wrong key for this stanza: try the next identity
      }
    }
    return null;
  }
}
