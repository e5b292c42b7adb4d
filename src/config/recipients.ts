/**
 * Recipient strings as users write them in a config file or on the command line: an age
 * recipient (`age1…`), an AWS KMS key ARN (optionally `+ROLE_ARN`, SOPS's syntax), or a PGP
 * fingerprint. All three are public, so messages may name them.
 */
import { KeyFormatError } from '../errors.js';
import { parseAgeRecipient } from '../keys/age.js';
import type { KmsRecipient } from '../keys/datakey.js';
import { parsePgpFingerprint } from '../keys/pgp.js';

/** SOPS's `arnRegex` (`kms/keysource.go`); copied rather than imported so config code never loads the AWS SDK. */
export const KMS_ARN_RE = /^arn:aws[\w-]*:kms:(.+):[0-9]+:(key|alias)\/.+$/;

/** SOPS splits `ARN+ROLE` at this marker (`kms.NewMasterKeyFromArn`). */
const ROLE_MARKER = '+arn:aws:iam::';

/** A parsed recipient of one of the three supported types. */
export type Recipient =
  { type: 'age'; recipient: string } | { type: 'kms'; kms: KmsRecipient } | { type: 'pgp'; fingerprint: string };

/** The key type of a recipient, as named in config files. */
export type RecipientType = Recipient['type'];

/**
 * Validates a KMS key ARN.
 * @throws KeyFormatError naming the (public) ARN.
 */
export function parseKmsArn(arn: string): string {
  if (!KMS_ARN_RE.test(arn)) {
    throw new KeyFormatError(`invalid AWS KMS key ARN "${arn.slice(0, 200)}"`, {
      hint: 'expected arn:aws:kms:<region>:<account>:key/<key-id> or …:alias/<name>',
    });
  }
  return arn;
}

/**
 * A KMS recipient from SOPS's string form `ARN` or `ARN+ROLE_ARN` (spaces removed, as SOPS does).
 * @throws KeyFormatError for a malformed key ARN.
 */
export function parseKmsString(text: string, awsProfile?: string): KmsRecipient {
  const s = text.replace(/ /g, '');
  const i = s.indexOf(ROLE_MARKER);
  const arn = parseKmsArn(i > 0 ? s.slice(0, i) : s);
  const out: KmsRecipient = { arn };
  if (i > 0) out.role = s.slice(i + 1);
  if (awsProfile !== undefined && awsProfile !== '') out.awsProfile = awsProfile;
  return out;
}

/**
 * Recognises and validates a recipient given on the command line.
 * @throws KeyFormatError when it is none of the three forms, or malformed.
 */
export function parseRecipient(text: string): Recipient {
  const s = text.trim();
  if (s.startsWith('age1')) return { type: 'age', recipient: parseAgeRecipient(s) };
  if (s.startsWith('arn:')) return { type: 'kms', kms: parseKmsString(s) };
  if (/^(0x)?[0-9a-fA-F ]+$/.test(s)) return { type: 'pgp', fingerprint: parsePgpFingerprint(s) };
  throw new KeyFormatError('not an age recipient, AWS KMS key ARN or PGP fingerprint', {
    hint: 'recipients look like age1…, arn:aws:kms:<region>:<account>:key/<id>, or a 40-hex PGP fingerprint',
  });
}

/** How a recipient is shown to users: the recipient, the ARN (`+role`), or `pgp:FPR`. */
export function recipientLabel(r: Recipient): string {
  switch (r.type) {
    case 'age':
      return r.recipient;
    case 'kms':
      return r.kms.role === undefined ? r.kms.arn : `${r.kms.arn}+${r.kms.role}`;
    case 'pgp':
      return `pgp:${r.fingerprint}`;
  }
}
