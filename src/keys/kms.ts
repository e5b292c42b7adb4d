/**
 * AWS KMS key source, as SOPS's `kms/keysource.go`: the data key is wrapped with KMS `Encrypt`
 * and unwrapped with `Decrypt`, in the region named by the key's ARN, optionally through an STS
 * role and/or a named shared-config profile.
 *
 * Loaded only with `import()` (by `ops/`), so CLI start-up never loads the AWS SDK: keep the
 * top-level imports of this module to the SDK and our own types.
 */
import { DecryptCommand, EncryptCommand, KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { hostname as osHostname } from 'node:os';
import { KeyFormatError, KmsError, MetadataError } from '../errors.js';
import type { KmsStanza } from '../format/metadata.js';
import type { KmsKeySource, KmsRecipient } from './datakey.js';

/** SOPS's `arnRegex`; group 1 is the region every call for this key goes to. */
const ARN_RE = /^arn:aws[\w-]*:kms:(.+):[0-9]+:(key|alias)\/.+$/;

/** More than the SDK's 3 so a short burst of throttling (3 refusals in a row) still succeeds. */
export const DEFAULT_MAX_ATTEMPTS = 5;

/** AWS's limit on RoleSessionName (SOPS's `roleSessionNameLengthLimit`). */
const ROLE_SESSION_NAME_LIMIT = 64;

/** Options of {@link awsKmsKeySource}. */
export interface AwsKmsOptions {
  /**
   * The environment sealant consults: `AWS_ENDPOINT_URL[_KMS|_STS]`, `AWS_MAX_ATTEMPTS`,
   * `AWS_PROFILE`, `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`. The SDK's
   * own default chain (shared config file locations, SSO, web identity, instance metadata) still
   * reads `process.env`, so pass `process.env` outside tests.
   */
  env: Readonly<Record<string, string | undefined>>;
  /** Host name for the STS session name `sops@<hostname>`; defaults to the OS host name. */
  hostname?: string;
  /** Attempts per call, retries included; defaults to `AWS_MAX_ATTEMPTS`, else {@link DEFAULT_MAX_ATTEMPTS}. */
  maxAttempts?: number;
  /** Clock for the stanzas' `created_at`; defaults to the system clock. */
  now?: () => Date;
  /**
   * A fixed delay between attempts instead of the SDK's exponential backoff with jitter (whose
   * throttling base is 1 s). For tests; production leaves it unset.
   */
  retryDelayMs?: number;
  /** Time limit of one attempt (request and response), in ms (default 30 000), so a hung endpoint cannot hang the CLI. */
  requestTimeoutMs?: number;
}

/** What every client of this source shares: derived once from the options. */
interface Settings {
  env: Readonly<Record<string, string | undefined>>;
  sessionName: string;
  maxAttempts: number;
  retryDelayMs: number | undefined;
  requestTimeoutMs: number;
}

/**
 * An AWS KMS key source. Clients are created lazily, one per (region, role, profile), and kept
 * for the life of the source, so role credentials are fetched once and reused until they expire.
 * @throws never; every error surfaces from `encrypt`/`decrypt`.
 */
export function awsKmsKeySource(opts: AwsKmsOptions): KmsKeySource {
  const settings: Settings = {
    env: opts.env,
    sessionName: stsSessionName(opts.hostname ?? osHostname()),
    maxAttempts: resolveMaxAttempts(opts.maxAttempts, opts.env),
    retryDelayMs: opts.retryDelayMs,
    requestTimeoutMs: opts.requestTimeoutMs ?? 30_000,
  };
  const now = opts.now ?? (() => new Date());
  const clients = new Map<string, KMSClient>();
  const clientFor = (arn: string, role: string | undefined, profile: string): KMSClient => {
    const region = kmsRegion(arn);
    const id = JSON.stringify([region, role ?? '', profile]);
    let client = clients.get(id);
    if (client === undefined) {
      client = new KMSClient(kmsClientConfig(settings, region, role, profile));
      clients.set(id, client);
    }
    return client;
  };

  return {
    /**
     * Unwraps a stanza's data key with `Decrypt{KeyId, CiphertextBlob, EncryptionContext}`.
     * @throws KeyFormatError when the ARN is malformed; MetadataError when `enc` is not base64;
     * KmsError (exit 128) naming the ARN and the AWS error code when KMS refuses or is unreachable.
     */
    async decrypt(stanza: KmsStanza): Promise<Uint8Array> {
      const client = clientFor(stanza.arn, stanza.role, stanza.awsProfile);
      const blob = decodeEnc(stanza);
      try {
        const out = await client.send(
          new DecryptCommand({
            KeyId: stanza.arn,
            CiphertextBlob: blob,
            EncryptionContext: contextOrUndefined(stanza.context),
          }),
        );
        if (out.Plaintext === undefined) throw missingField('Plaintext');
        return out.Plaintext;
      } catch (e) {
        throw toKmsError('Decrypt', stanza.arn, e, stanza.awsProfile);
      }
    },

    /**
     * Wraps `plaintext` with `Encrypt{KeyId, Plaintext, EncryptionContext}` into a stanza laid
     * out as SOPS writes it (`aws_profile` always, `role`/`context` only when set).
     * @throws KeyFormatError when the ARN is malformed; KmsError naming the ARN and the AWS
     * error code when KMS refuses or is unreachable.
     */
    async encrypt(key: KmsRecipient, plaintext: Uint8Array): Promise<KmsStanza> {
      const profile = key.awsProfile ?? '';
      const client = clientFor(key.arn, key.role, profile);
      const context = contextOrUndefined(key.context);
      let blob: Uint8Array;
      try {
        const out = await client.send(
          new EncryptCommand({ KeyId: key.arn, Plaintext: plaintext, EncryptionContext: context }),
        );
        if (out.CiphertextBlob === undefined) throw missingField('CiphertextBlob');
        blob = out.CiphertextBlob;
      } catch (e) {
        throw toKmsError('Encrypt', key.arn, e, profile);
      }
      const stanza: KmsStanza = {
        arn: key.arn,
        createdAt: rfc3339Seconds(now()),
        enc: Buffer.from(blob).toString('base64'),
        awsProfile: profile,
      };
      if (key.role !== undefined && key.role !== '') stanza.role = key.role;
      if (context !== undefined) stanza.context = { ...context };
      return stanza;
    },
  };
}

/**
 * The region of a KMS key ARN (calls always go there, whatever `AWS_REGION` says).
 * @throws KeyFormatError naming the ARN when it is not a KMS key or alias ARN.
 */
export function kmsRegion(arn: string): string {
  const m = ARN_RE.exec(arn);
  if (m === null) {
    throw new KeyFormatError(`invalid AWS KMS key ARN "${arn}"`, {
      hint: 'expected arn:aws:kms:<region>:<account>:key/<key-id> or arn:aws:kms:<region>:<account>:alias/<name>',
    });
  }
  return m[1]!;
}

/**
 * The STS session name SOPS uses: `sops@<hostname>`, sanitized and cut to 64 characters.
 * @throws never.
 */
export function stsSessionName(hostname: string): string {
  // SOPS's class is "[^a-zA-Z0-9=,.@-_]+": `@-_` is a range (0x40-0x5F), so '-' is stripped
  // ("build-01" -> "build01"). Kept as is so a role's trust policy matches both tools' sessions.
  const name = `sops@${hostname.replace(/[^a-zA-Z0-9=,.@-_]+/g, '')}`;
  return name.length >= ROLE_SESSION_NAME_LIMIT ? name.slice(0, ROLE_SESSION_NAME_LIMIT) : name;
}

function resolveMaxAttempts(explicit: number | undefined, env: Readonly<Record<string, string | undefined>>): number {
  if (explicit !== undefined) return explicit;
  const fromEnv = Number(env.AWS_MAX_ATTEMPTS);
  return Number.isInteger(fromEnv) && fromEnv >= 1 ? fromEnv : DEFAULT_MAX_ATTEMPTS;
}

/** Config shared by the KMS and STS clients of one (region, profile). */
type CommonConfig = Pick<
  KMSClientConfig,
  'region' | 'profile' | 'credentials' | 'endpoint' | 'maxAttempts' | 'retryStrategy' | 'requestHandler'
>;

function commonConfig(s: Settings, region: string, profile: string, service: 'KMS' | 'STS'): CommonConfig {
  const config: CommonConfig = {
    region,
    maxAttempts: s.maxAttempts,
    requestHandler: { connectionTimeout: 10_000, requestTimeout: s.requestTimeoutMs, throwOnRequestTimeout: true },
  };
  if (s.retryDelayMs !== undefined) config.retryStrategy = new ConfiguredRetryStrategy(s.maxAttempts, s.retryDelayMs);
  // Credential precedence of the Go SDK that SOPS uses: a profile set on the key beats the
  // environment's static keys, which beat AWS_PROFILE (the JS SDK would let AWS_PROFILE win).
  const envKeys = staticEnvCredentials(s.env);
  const envProfile = nonEmpty(s.env.AWS_PROFILE);
  if (profile !== '') config.profile = profile;
  else if (envKeys !== undefined) config.credentials = envKeys;
  else if (envProfile !== undefined) config.profile = envProfile;
  const endpoint = endpointFromEnv(s.env, service);
  if (endpoint !== undefined) config.endpoint = endpoint;
  return config;
}

function kmsClientConfig(s: Settings, region: string, role: string | undefined, profile: string): KMSClientConfig {
  const config: KMSClientConfig = commonConfig(s, region, profile, 'KMS');
  if (role !== undefined && role !== '') {
    // SOPS assumes the role with the key's own region and credentials (profile or default chain).
    const sts = new STSClient(commonConfig(s, region, profile, 'STS'));
    // Explicit credentials win over the profile, which still supplies its other settings.
    config.credentials = assumeRoleCredentials(sts, role, s.sessionName);
  }
  return config;
}

/** A credential provider the SDK memoizes until `expiration`: AssumeRole once per client, not per call. */
function assumeRoleCredentials(
  sts: STSClient,
  role: string,
  sessionName: string,
): NonNullable<KMSClientConfig['credentials']> {
  return async () => {
    let out;
    try {
      out = await sts.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: sessionName }));
    } catch (e) {
      throw new RoleAssumptionError(role, e);
    }
    const c = out.Credentials;
    if (c?.AccessKeyId === undefined || c.SecretAccessKey === undefined)
      throw new RoleAssumptionError(role, missingField('Credentials'));
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
  };
}

/** An STS failure, carried through the KMS call with its code and the role it was for. */
class RoleAssumptionError extends Error {
  readonly code: string;
  constructor(role: string, cause: unknown) {
    super(`assuming role ${role}: ${shortMessage(cause)}`);
    this.name = 'RoleAssumptionError';
    this.code = errorCode(cause);
  }
}

function staticEnvCredentials(env: Readonly<Record<string, string | undefined>>): KMSClientConfig['credentials'] {
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  if (accessKeyId === undefined || secretAccessKey === undefined) return undefined;
  return { accessKeyId, secretAccessKey, sessionToken: nonEmpty(env.AWS_SESSION_TOKEN) };
}

/**
 * The SDK reads `AWS_ENDPOINT_URL_<SERVICE>`/`AWS_ENDPOINT_URL` from `process.env` itself; we read
 * them from the environment we were given so a caller's env (not only the process's) applies.
 */
function endpointFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  service: 'KMS' | 'STS',
): string | undefined {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === 'true') return undefined;
  return nonEmpty(env[`AWS_ENDPOINT_URL_${service}`]) ?? nonEmpty(env.AWS_ENDPOINT_URL);
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** SOPS sends no context when the map is empty (`ParseKMSContext` returns nil). */
function contextOrUndefined(context: Record<string, string> | undefined): Record<string, string> | undefined {
  return context === undefined || Object.keys(context).length === 0 ? undefined : context;
}

function decodeEnc(stanza: KmsStanza): Uint8Array {
  // Buffer's decoder skips bad characters silently; SOPS (Go's StdEncoding) refuses them.
  if (stanza.enc === '' || stanza.enc.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(stanza.enc)) {
    throw new MetadataError(`sops.kms entry for ${stanza.arn}: enc is not valid base64`);
  }
  return Buffer.from(stanza.enc, 'base64');
}

/** RFC 3339 in UTC to the second, as Go's `time.RFC3339` prints a UTC time. */
function rfc3339Seconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function missingField(field: string): Error {
  const e = new Error(`response has no ${field}`);
  e.name = 'InvalidResponse';
  return e;
}

/** AWS error codes that mean "who you are or what you may do", not "try again". */
const CREDENTIAL_CODES = new Set([
  'CredentialsProviderError',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'AccessDeniedException',
  'AccessDenied',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
]);
const CIPHERTEXT_CODES = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);
const KEY_STATE_CODES = new Set(['NotFoundException', 'DisabledException', 'KMSInvalidStateException']);

function toKmsError(operation: string, arn: string, e: unknown, profile: string): KmsError {
  const awsCode = errorCode(e);
  // No `cause`: an SDK error may hold the raw HTTP response, and a Decrypt response holds the key.
  return new KmsError({ operation, arn, awsCode, detail: shortMessage(e) }, { hint: hintFor(awsCode, e, profile) });
}

function hintFor(code: string, e: unknown, profile: string): string {
  if (code === 'CredentialsProviderError' && profile !== '') {
    return `no credentials for AWS profile "${profile}" (the key's aws_profile) in the shared config/credentials files`;
  }
  if (CREDENTIAL_CODES.has(code)) {
    return "check the AWS credentials (the key's aws_profile or role, AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and the key policy";
  }
  if (CIPHERTEXT_CODES.has(code)) {
    return 'the key or encryption context differs from the one the data key was encrypted with, or enc was modified';
  }
  if (KEY_STATE_CODES.has(code)) return 'the KMS key does not exist in that account and region, or is disabled';
  const attempts = (e as { $metadata?: { attempts?: number } } | null)?.$metadata?.attempts;
  const tries = attempts === undefined ? '' : ` after ${attempts} attempt(s)`;
  return `AWS KMS could not be reached or kept refusing${tries}; retry later (AWS_MAX_ATTEMPTS raises the retry budget)`;
}

/** The AWS error code (`name` of an SDK exception) or the network error code (`ECONNREFUSED`). */
function errorCode(e: unknown): string {
  if (e instanceof RoleAssumptionError) return e.code;
  if (typeof e !== 'object' || e === null) return 'UnknownError';
  const { name, code } = e as { name?: unknown; code?: unknown };
  // The SDK renames ECONNRESET/EPIPE to "TimeoutError"; the system code says more.
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  if (typeof name === 'string' && name !== '' && name !== 'Error' && name !== 'AggregateError') return name;
  if (typeof code === 'string' && code !== '') return code;
  return 'UnknownError';
}

/** One line, bounded: SDK messages name resources, never request or response data. */
function shortMessage(e: unknown): string {
  const raw = e instanceof Error ? e.message : '';
  const line = (raw.split('\n')[0] ?? '')
    .replace(/^@smithy\/[\w-]+ - (\[\w+\] )?/, '')
    .replace(/\s+/g, ' ')
    .trim();
  // The SDK fills in "UnknownError" when AWS sends no message (as for InvalidCiphertextException).
  if (line === '' || line === 'UnknownError') {
    const code = (e as { code?: unknown } | null)?.code;
    return typeof code === 'string' ? code : 'no message';
  }
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}
