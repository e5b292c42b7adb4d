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
  if (!AGE_RECIPIENT_RE.test(r))
    throw new KeyFormatError(`invalid age recipient "${r.slice(0, 80)}"`, {
      hint: 'age recipients start with age1… (see `sealant keygen`)',
    });
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
  /** Why sources of identities were skipped (one line each, no key material), for "no key" messages. */
  readonly loadErrors: readonly string[];

  constructor(identities: readonly AgeIdentity[], loadErrors: readonly string[] = []) {
    this.identities = identities;
    this.loadErrors = loadErrors;
  }

  /** Public keys of the identities (for "no key could decrypt" messages). */
  recipients(): string[] {
    return this.identities.map((i) => i.recipient);
  }

  /**
   * Unwraps the first of `stanzas` that one of the identities opens. As in sops, every
   * identity is tried on every stanza: the `recipient` label is not authenticated and can be
   * edited by hand. Identities whose public key equals a stanza's label are tried on it first,
   * so a file with many stanzas usually costs one X25519 operation.
   * @returns the unwrapped key, the stanza and the identity that opened it, or null when none can.
   */
  async unwrapFirst(
    stanzas: readonly AgeStanza[],
  ): Promise<{ key: Uint8Array; stanza: AgeStanza; identity: AgeIdentity } | null> {
    const files = stanzas.map((stanza) => {
      try {
        return armor.decode(stanza.enc);
      } catch {
        return undefined;
      }
    });
    for (const labelled of [true, false]) {
      for (const [i, stanza] of stanzas.entries()) {
        const file = files[i];
        if (file === undefined) continue;
        for (const identity of this.identities) {
          if ((identity.recipient === stanza.recipient) !== labelled) continue;
          const d = new Decrypter();
          d.addIdentity(identity.identity);
          try {
            return { key: await d.decrypt(file), stanza, identity };
          } catch {
            // not this identity's stanza: try the next pair
          }
        }
      }
    }
    return null;
  }
}
