/**
 * A KMS-protocol server of our own for tests, on 127.0.0.1 (port 0): it answers the real
 * `@aws-sdk/client-kms` (AWS JSON 1.1, `X-Amz-Target: TrentService.<Op>`) and `@aws-sdk/client-sts`
 * `AssumeRole` (query protocol, XML), checks every request's SigV4 signature against the test
 * secret (or the temporary credentials it issued, session token included), keeps real AES-256-GCM
 * key material per key, binds the encryption context as AAD, and can throttle, fail with 500,
 * slow down or drop connections on demand.
 *
 * Ciphertext blobs are `"SLKM" | 1 | u16 len | key ARN | iv(12) | tag(16) | ciphertext`, so
 * `Decrypt` finds its key without a KeyId, and a KeyId naming another key is refused as by AWS.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  randomUUID,
  timingSafeEqual,
} from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Long-term test credentials (the server knows their secret and recomputes signatures). */
export interface TestCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Session token these credentials come with (a client that always sends one, e.g. the real-sops harness). */
  sessionToken?: string;
}

export interface KmsServerOptions {
  /** Key ARNs the server holds (default: one key in us-east-1). */
  keys?: string[];
  credentials: TestCredentials;
  /** Role ARNs AssumeRole grants (default: any well-formed role ARN). */
  roles?: string[];
}

export type FailureKind = 'throttle' | '500';

/** One request as the server saw it (after signature checks). */
export interface RequestRecord {
  service: 'kms' | 'sts';
  op: string;
  /** Region of the SigV4 credential scope ('' when the request was not signed). */
  region: string;
  accessKeyId: string;
  /** Whether the request carried `X-Amz-Security-Token` (temporary credentials). */
  sessionToken: boolean;
  status: number;
  /** AWS error code returned, if any. */
  error?: string;
}

export interface KmsServer {
  url: string;
  port: number;
  arns: string[];
  /** Calls per operation (`Encrypt`, `Decrypt`, `AssumeRole`, …), failed and injected ones included. */
  counts: Record<string, number>;
  requests: RequestRecord[];
  /** Every successful AssumeRole: the role, the session name and the temporary access key issued. */
  assumedRoles: { roleArn: string; sessionName: string; accessKeyId: string }[];
  /** The next `n` calls of `op` (or `'*'` for any) fail with ThrottlingException/400 or KMSInternalException/500. */
  injectFailures(op: string, n: number, kind: FailureKind): void;
  /** Forgets every pending injected failure. */
  clearFailures(): void;
  /** Delay before every answer. */
  setLatency(ms: number): void;
  /** While down, every request's connection is dropped without an answer. */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

interface TempCredentials {
  secret: string;
  token: string;
  expires: number;
}

/** An AWS error answer: protocol error code, HTTP status, message. */
class AwsFault extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const BLOB_MAGIC = Buffer.from('SLKM');
const ACCOUNT = '111122223333';

/** Starts the server; `close()` it at the end of the test. */
export async function startKmsServer(opts: KmsServerOptions): Promise<KmsServer> {
  const arns = opts.keys ?? [`arn:aws:kms:us-east-1:${ACCOUNT}:key/${randomUUID()}`];
  const material = new Map(arns.map((a) => [a, randomBytes(32)]));
  const temp = new Map<string, TempCredentials>();
  const failures: { op: string; left: number; kind: FailureKind }[] = [];
  let latency = 0;
  let down = false;

  const state = {
    counts: {} as Record<string, number>,
    requests: [] as RequestRecord[],
    assumedRoles: [] as KmsServer['assumedRoles'],
  };

  const secretFor = (accessKeyId: string): { secret: string; token?: string } | undefined => {
    if (accessKeyId === opts.credentials.accessKeyId)
      return { secret: opts.credentials.secretAccessKey, token: opts.credentials.sessionToken };
    const t = temp.get(accessKeyId);
    return t === undefined || t.expires < Date.now() ? undefined : { secret: t.secret, token: t.token };
  };

  const takeFailure = (op: string): FailureKind | undefined => {
    const f = failures.find((x) => (x.op === op || x.op === '*') && x.left > 0);
    if (f === undefined) return undefined;
    f.left--;
    return f.kind;
  };

  const kms = kmsOperations(material);
  const sts = stsOperations(opts.roles, temp, state.assumedRoles);

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const call = classify(req, body);
      state.counts[call.op] = (state.counts[call.op] ?? 0) + 1;
      if (down) {
        req.socket.destroy();
        return;
      }
      if (latency > 0) await sleep(latency);
      const record: RequestRecord = {
        service: call.service,
        op: call.op,
        region: '',
        accessKeyId: '',
        sessionToken: false,
        status: 200,
      };
      state.requests.push(record);
      try {
        const auth = verifySignature(req, body, call.service, secretFor);
        Object.assign(record, { region: auth.region, accessKeyId: auth.accessKeyId, sessionToken: auth.sessionToken });
        const kind = takeFailure(call.op);
        if (kind === 'throttle')
          throw new AwsFault(call.service === 'kms' ? 'ThrottlingException' : 'Throttling', 400, 'Rate exceeded');
        if (kind === '500')
          throw new AwsFault(
            call.service === 'kms' ? 'KMSInternalException' : 'InternalFailure',
            500,
            'We encountered an internal error. Please try again.',
          );
        if (call.service === 'kms') sendJson(res, 200, kms(call.op, parseJson(body), auth.region));
        else sendXml(res, 200, sts(call.op, new URLSearchParams(body.toString('utf8'))));
      } catch (e) {
        const fault =
          e instanceof AwsFault
            ? e
            : new AwsFault(call.service === 'kms' ? 'KMSInternalException' : 'InternalFailure', 500, 'internal error');
        record.status = fault.status;
        record.error = fault.code;
        if (call.service === 'kms') sendJson(res, fault.status, { __type: fault.code, message: fault.message });
        else sendXml(res, fault.status, stsErrorXml(fault));
      }
    })().catch(() => req.socket.destroy());
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    arns,
    ...state,
    injectFailures: (op, n, kind) => void failures.push({ op, left: n, kind }),
    clearFailures: () => void failures.splice(0),
    setLatency: (ms) => void (latency = ms),
    setDown: (d) => void (down = d),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Request classification and SigV4

function classify(req: IncomingMessage, body: Buffer): { service: 'kms' | 'sts'; op: string } {
  const target = header(req, 'x-amz-target');
  if (target !== undefined)
    return { service: 'kms', op: target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : target };
  return { service: 'sts', op: new URLSearchParams(body.toString('utf8')).get('Action') ?? 'Unknown' };
}

interface VerifiedAuth {
  accessKeyId: string;
  region: string;
  sessionToken: boolean;
}

const AUTH_RE =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;

/** Recomputes the request's SigV4 signature with the secret the server holds for its access key. */
function verifySignature(
  req: IncomingMessage,
  body: Buffer,
  service: 'kms' | 'sts',
  secretFor: (accessKeyId: string) => { secret: string; token?: string } | undefined,
): VerifiedAuth {
  const kms = service === 'kms';
  const m = AUTH_RE.exec(header(req, 'authorization') ?? '');
  if (m === null)
    throw new AwsFault(
      kms ? 'MissingAuthenticationTokenException' : 'MissingAuthenticationToken',
      403,
      'Missing or malformed Authorization header',
    );
  const [, accessKeyId, date, region, scopeService, signedHeaderList, signature] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const known = secretFor(accessKeyId);
  if (known === undefined) {
    throw new AwsFault(
      kms ? 'UnrecognizedClientException' : 'InvalidClientTokenId',
      kms ? 400 : 403,
      'The security token included in the request is invalid.',
    );
  }
  const token = header(req, 'x-amz-security-token');
  const signed = signedHeaderList.split(';');
  if (token !== known.token || (token !== undefined && !signed.includes('x-amz-security-token'))) {
    throw new AwsFault(
      kms ? 'UnrecognizedClientException' : 'InvalidClientTokenId',
      kms ? 400 : 403,
      'The security token included in the request is invalid.',
    );
  }
  const mismatch = (why: string) => new AwsFault(kms ? 'InvalidSignatureException' : 'SignatureDoesNotMatch', 403, why);
  if (scopeService !== service) throw mismatch(`Credential should be scoped to correct service: '${service}'.`);
  if (!signed.includes('host')) throw mismatch("'Host' must be a signed header.");
  const amzDate = header(req, 'x-amz-date') ?? '';
  if (!amzDate.startsWith(date)) throw mismatch('Date in Credential scope does not match the request date.');
  if (!(Math.abs(parseAmzDate(amzDate) - Date.now()) <= 15 * 60_000)) throw mismatch('Signature expired.');

  const canonical = canonicalRequest(req, body, signed);
  const scope = `${date}/${region}/${scopeService}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonical)].join('\n');
  let key = hmac(`AWS4${known.secret}`, date);
  for (const part of [region, scopeService, 'aws4_request']) key = hmac(key, part);
  const expected = createHmac('sha256', key).update(stringToSign).digest();
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
    throw mismatch(
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
  }
  return { accessKeyId, region, sessionToken: token !== undefined };
}

function canonicalRequest(req: IncomingMessage, body: Buffer, signed: string[]): string {
  const [rawPath = '/', rawQuery = ''] = (req.url ?? '/').split('?', 2);
  // Non-S3 services double-encode: each segment of the (already encoded) path is encoded again.
  const path = rawPath.split('/').map(rfc3986).join('/');
  const query = rawQuery
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const i = p.indexOf('=');
      const [k, v] = i < 0 ? [p, ''] : [p.slice(0, i), p.slice(i + 1)];
      return [rfc3986(decodeURIComponent(k)), rfc3986(decodeURIComponent(v))] as const;
    })
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headers = [...signed]
    .sort()
    .map((h) => `${h}:${(header(req, h) ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  return [req.method ?? 'POST', path, query, headers, signed.join(';'), sha256Hex(body)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// KMS operations

type Json = Record<string, unknown>;

function kmsOperations(material: Map<string, Buffer>): (op: string, input: Json, region: string) => Json {
  const resolve = (keyId: unknown, region: string): string => {
    if (typeof keyId !== 'string' || keyId === '') throw new AwsFault('ValidationException', 400, 'KeyId is required');
    const arn = material.has(keyId)
      ? keyId
      : [...material.keys()].find((a) => a.endsWith(`:${keyId}`) || a.endsWith(`/${keyId}`));
    // Real KMS answers from one region only: a key ARN of another region is not found there.
    if (arn === undefined || arn.split(':')[3] !== region)
      throw new AwsFault('NotFoundException', 400, `Key '${keyId}' does not exist`);
    return arn;
  };
  const wrap = (arn: string, plaintext: Buffer, context: Json | undefined): Buffer => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', material.get(arn)!, iv);
    cipher.setAAD(aad(arn, context));
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const name = Buffer.from(arn, 'utf8');
    const len = Buffer.alloc(2);
    len.writeUInt16BE(name.length);
    return Buffer.concat([BLOB_MAGIC, Buffer.from([1]), len, name, iv, cipher.getAuthTag(), ct]);
  };
  const unwrap = (blob: Buffer, context: Json | undefined): { arn: string; plaintext: Buffer } => {
    const invalid = () => new AwsFault('InvalidCiphertextException', 400, '');
    if (blob.length < 7 || !blob.subarray(0, 4).equals(BLOB_MAGIC) || blob[4] !== 1) throw invalid();
    const len = blob.readUInt16BE(5);
    const arn = blob.subarray(7, 7 + len).toString('utf8');
    const rest = blob.subarray(7 + len);
    const key = material.get(arn);
    if (key === undefined || rest.length < 28) throw invalid();
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, rest.subarray(0, 12));
      decipher.setAAD(aad(arn, context));
      decipher.setAuthTag(rest.subarray(12, 28));
      return { arn, plaintext: Buffer.concat([decipher.update(rest.subarray(28)), decipher.final()]) };
    } catch {
      throw invalid();
    }
  };

  return (op, input, region) => {
    switch (op) {
      case 'Encrypt': {
        const arn = resolve(input.KeyId, region);
        const plaintext = blobField(input, 'Plaintext');
        if (plaintext.length < 1 || plaintext.length > 4096)
          throw new AwsFault('ValidationException', 400, 'Plaintext must be 1 to 4096 bytes');
        const blob = wrap(arn, plaintext, contextField(input));
        return { CiphertextBlob: blob.toString('base64'), KeyId: arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      }
      case 'Decrypt': {
        const { arn, plaintext } = unwrap(blobField(input, 'CiphertextBlob'), contextField(input));
        if (arn.split(':')[3] !== region) throw new AwsFault('InvalidCiphertextException', 400, '');
        if (input.KeyId !== undefined && resolve(input.KeyId, region) !== arn) {
          throw new AwsFault(
            'IncorrectKeyException',
            400,
            'The key ID in the request does not identify a CMK that can perform this operation.',
          );
        }
        return { Plaintext: plaintext.toString('base64'), KeyId: arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      }
      case 'GenerateDataKey': {
        const arn = resolve(input.KeyId, region);
        const n = typeof input.NumberOfBytes === 'number' ? input.NumberOfBytes : input.KeySpec === 'AES_128' ? 16 : 32;
        const plaintext = randomBytes(n);
        return {
          CiphertextBlob: wrap(arn, plaintext, contextField(input)).toString('base64'),
          Plaintext: plaintext.toString('base64'),
          KeyId: arn,
        };
      }
      case 'DescribeKey': {
        const arn = resolve(input.KeyId, region);
        const keyId = arn.slice(arn.lastIndexOf('/') + 1);
        return {
          KeyMetadata: {
            KeyId: keyId,
            Arn: arn,
            AWSAccountId: arn.split(':')[4],
            Enabled: true,
            KeyState: 'Enabled',
            KeyUsage: 'ENCRYPT_DECRYPT',
            KeySpec: 'SYMMETRIC_DEFAULT',
            CreationDate: 1_700_000_000,
          },
        };
      }
      default:
        throw new AwsFault('UnknownOperationException', 400, '');
    }
  };
}

/** The context is bound in a canonical (sorted) form so key order never matters, as in KMS. */
function aad(arn: string, context: Json | undefined): Buffer {
  return Buffer.from(
    JSON.stringify([arn, Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]),
    'utf8',
  );
}

function blobField(input: Json, field: string): Buffer {
  const v = input[field];
  if (typeof v !== 'string') throw new AwsFault('ValidationException', 400, `${field} is required`);
  return Buffer.from(v, 'base64');
}

function contextField(input: Json): Json | undefined {
  const c = input.EncryptionContext;
  if (c === undefined) return undefined;
  if (typeof c !== 'object' || c === null || Object.values(c).some((v) => typeof v !== 'string')) {
    throw new AwsFault('ValidationException', 400, 'EncryptionContext must map strings to strings');
  }
  return c as Json;
}

// ---------------------------------------------------------------------------------------------
// STS AssumeRole

function stsOperations(
  roles: string[] | undefined,
  temp: Map<string, TempCredentials>,
  assumed: KmsServer['assumedRoles'],
): (op: string, params: URLSearchParams) => string {
  return (op, params) => {
    if (op !== 'AssumeRole') throw new AwsFault('InvalidAction', 400, `Could not find operation ${op}`);
    const roleArn = params.get('RoleArn') ?? '';
    const sessionName = params.get('RoleSessionName') ?? '';
    if (!/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/.test(roleArn))
      throw new AwsFault('ValidationError', 400, 'invalid RoleArn');
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) throw new AwsFault('ValidationError', 400, 'invalid RoleSessionName');
    if (roles !== undefined && !roles.includes(roleArn))
      throw new AwsFault('AccessDenied', 403, `not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
    const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const creds = {
      secret: randomBytes(20).toString('base64'),
      token: randomBytes(32).toString('base64'),
      expires: Date.now() + 3_600_000,
    };
    temp.set(accessKeyId, creds);
    assumed.push({ roleArn, sessionName, accessKeyId });
    const roleName = roleArn.slice(roleArn.indexOf(':role/') + 6);
    return [
      '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">',
      '<AssumeRoleResult>',
      `<Credentials><AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>${creds.secret}</SecretAccessKey>`,
      `<SessionToken>${creds.token}</SessionToken><Expiration>${new Date(creds.expires).toISOString()}</Expiration></Credentials>`,
      `<AssumedRoleUser><Arn>arn:aws:sts::${ACCOUNT}:assumed-role/${xml(roleName)}/${xml(sessionName)}</Arn>`,
      `<AssumedRoleId>AROATEST:${xml(sessionName)}</AssumedRoleId></AssumedRoleUser>`,
      '</AssumeRoleResult>',
      `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>`,
      '</AssumeRoleResponse>',
    ].join('');
  };
}

function stsErrorXml(f: AwsFault): string {
  const type = f.status >= 500 ? 'Receiver' : 'Sender';
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>${type}</Type><Code>${f.code}</Code><Message>${xml(f.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function parseJson(body: Buffer): Json {
  try {
    const v: unknown = JSON.parse(body.length === 0 ? '{}' : body.toString('utf8'));
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Json;
  } catch {
    // fall through
  }
  throw new AwsFault('SerializationException', 400, 'body is not a JSON object');
}

function sendJson(res: ServerResponse, status: number, value: Json): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
  res.end(JSON.stringify(value));
}

function sendXml(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
  res.end(text);
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function parseAmzDate(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  return m === null ? Number.NaN : Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
