/**
 * AWS KMS key source against our own KMS/STS server, through the REAL `@aws-sdk/client-kms` and
 * `@aws-sdk/client-sts` (no SDK mocks): signatures, endpoints, regions, credentials, profiles,
 * roles, retries and failures all go through the SDK's own code paths.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DescribeKeyCommand, GenerateDataKeyCommand, DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { KeyFormatError, KmsError, MetadataError } from '../src/errors.js';
import type { KmsStanza, SopsMetadata } from '../src/format/metadata.js';
import { kmsStanzaNode } from '../src/format/metadata.js';
import { AgeIdentities } from '../src/keys/age.js';
import { unwrapDataKey, wrapDataKey } from '../src/keys/datakey.js';
import type { AwsKmsOptions } from '../src/keys/kms.js';
import { startKmsServer, type KmsServer } from './helpers/kms-server.js';

const CREDS = { accessKeyId: 'AKIDSEALANTTEST', secretAccessKey: 'test/secret+key=' };
const EAST = 'arn:aws:kms:us-east-1:111122223333:key/0f1e2d3c-aaaa-bbbb-cccc-000000000001';
const PARIS = 'arn:aws:kms:eu-west-3:111122223333:key/0f1e2d3c-aaaa-bbbb-cccc-000000000002';
const ALIAS = 'arn:aws:kms:us-east-1:111122223333:alias/sealant-test';
const ROLE = 'arn:aws:iam::111122223333:role/sops-decrypt';
const NOW = new Date('2026-01-02T03:04:05.678Z');
const DATA_KEY = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1);

// The SDK reads process.env on its own (shared config, profile, IMDS): keep the developer's AWS
// setup out of these tests, and never wait on instance metadata.
const work = mkdtempSync(join(tmpdir(), 'sealant-kms-'));
const AWS_VARS = [
  'AWS_PROFILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_KMS',
  'AWS_ENDPOINT_URL_STS',
  'AWS_MAX_ATTEMPTS',
  'AWS_RETRY_MODE',
  'AWS_ROLE_ARN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
];
for (const v of AWS_VARS) delete process.env[v];
process.env.AWS_CONFIG_FILE = join(work, 'no-config');
process.env.AWS_SHARED_CREDENTIALS_FILE = join(work, 'no-credentials');
process.env.AWS_EC2_METADATA_DISABLED = 'true';
// SDK releases after 2026 warn once per process on Node 20; the warning is not under test.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

const { awsKmsKeySource, stsSessionName } = await import('../src/keys/kms.js');

let server: KmsServer;

/** The environment a CI job would have: endpoint and static keys; region deliberately wrong. */
function envFor(s: KmsServer, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    AWS_ENDPOINT_URL_KMS: s.url,
    AWS_ENDPOINT_URL_STS: s.url,
    AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
    AWS_REGION: 'ap-southeast-2',
    ...extra,
  };
}

function source(s: KmsServer, opts: Partial<AwsKmsOptions> = {}) {
  return awsKmsKeySource({ env: envFor(s), now: () => NOW, hostname: 'ci-runner-7', retryDelayMs: 5, ...opts });
}

function resetCounts(s: KmsServer): void {
  for (const k of Object.keys(s.counts)) delete s.counts[k];
  s.requests.length = 0;
}

/** Runs `fn` with process.env temporarily extended (the SDK reads some settings only there). */
async function withProcessEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

async function rejectsKms(p: Promise<unknown>): Promise<KmsError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof KmsError, `expected KmsError, got ${String(e)}`);
    // A failed unwrap is KMS (exit 128, sops's CouldNotRetrieveKey); a failed wrap KMS_ENCRYPT (exit 1).
    assert.equal(e.code, e.operation === 'Decrypt' ? 'KMS' : 'KMS_ENCRYPT');
    assert.ok(!e.message.includes('\n'), 'message is one line');
    return e;
  }
  assert.fail('expected a KmsError');
}

before(async () => {
  server = await startKmsServer({ keys: [EAST, PARIS, ALIAS], credentials: CREDS, roles: [ROLE] });
});
after(async () => {
  await server.close();
});

describe('round trip', () => {
  test('a 32-byte data key, no encryption context: stanza laid out as sops writes it', async () => {
    resetCounts(server);
    const kms = source(server);
    const stanza = await kms.encrypt({ arn: EAST }, DATA_KEY);
    assert.deepEqual(Object.keys(stanza).sort(), ['arn', 'awsProfile', 'createdAt', 'enc']);
    assert.equal(stanza.arn, EAST);
    assert.equal(stanza.awsProfile, '');
    assert.equal(stanza.createdAt, '2026-01-02T03:04:05Z');
    assert.match(stanza.enc, /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
    assert.deepEqual(await kms.decrypt(stanza), DATA_KEY);
    assert.deepEqual(server.counts, { Encrypt: 1, Decrypt: 1 });
    // On disk: arn, aws_profile (always, even empty), created_at, enc; no context, no role.
    const node = kmsStanzaNode(stanza);
    assert.deepEqual(
      node.items.map((i) => (i.kind === 'entry' ? i.key : '#')),
      ['arn', 'aws_profile', 'created_at', 'enc'],
    );
  });

  test('with an encryption context (key order irrelevant); context written only when set', async () => {
    const kms = source(server);
    const context = { environment: 'prod', app: 'billing' };
    const stanza = await kms.encrypt({ arn: EAST, context }, DATA_KEY);
    assert.deepEqual(stanza.context, context);
    assert.deepEqual(await kms.decrypt({ ...stanza, context: { app: 'billing', environment: 'prod' } }), DATA_KEY);
    const node = kmsStanzaNode(stanza);
    assert.deepEqual(
      node.items.map((i) => (i.kind === 'entry' ? i.key : '#')),
      ['arn', 'aws_profile', 'context', 'created_at', 'enc'],
    );
    // An empty context is no context (sops's ParseKMSContext returns nil).
    const bare = await kms.encrypt({ arn: EAST, context: {} }, DATA_KEY);
    assert.equal('context' in bare, false);
    assert.deepEqual(await kms.decrypt(bare), DATA_KEY);
  });

  test('a wrong or missing encryption context fails with InvalidCiphertextException, exit 128', async () => {
    const kms = source(server);
    const stanza = await kms.encrypt({ arn: EAST, context: { environment: 'prod' } }, DATA_KEY);
    for (const bad of [
      { ...stanza, context: { environment: 'dev' } },
      { ...stanza, context: undefined },
    ]) {
      const e = await rejectsKms(kms.decrypt(bad));
      assert.equal(e.awsCode, 'InvalidCiphertextException');
      assert.equal(e.exitCode, 128);
      assert.equal(e.arn, EAST);
      assert.match(
        e.message,
        /^AWS KMS Decrypt failed for arn:aws:kms:us-east-1:111122223333:key\/\S+: InvalidCiphertextException \(.+\)$/,
      );
      assert.ok(!e.message.includes(stanza.enc) && !e.message.includes(Buffer.from(DATA_KEY).toString('base64')));
      assert.match(e.hint ?? '', /encryption context/);
    }
  });

  test('a stanza whose ARN names another key: IncorrectKeyException', async () => {
    const kms = source(server);
    const stanza = await kms.encrypt({ arn: EAST }, DATA_KEY);
    const e = await rejectsKms(kms.decrypt({ ...stanza, arn: ALIAS }));
    assert.equal(e.awsCode, 'IncorrectKeyException');
  });

  test('role and aws_profile are recorded in the stanza; role written last', async () => {
    const kms = source(server);
    const stanza = await kms.encrypt({ arn: EAST, role: ROLE }, DATA_KEY);
    assert.equal(stanza.role, ROLE);
    assert.deepEqual(
      kmsStanzaNode(stanza).items.map((i) => (i.kind === 'entry' ? i.key : '#')),
      ['arn', 'aws_profile', 'created_at', 'enc', 'role'],
    );
  });

  test('wrapDataKey/unwrapDataKey go through the KMS source', async () => {
    const kms = source(server);
    const [group] = await wrapDataKey(DATA_KEY, [{ age: [], kms: [{ arn: EAST, context: { a: 'b' } }] }], undefined, {
      kms: async () => kms,
    });
    assert.ok(group !== undefined && group.kms.length === 1);
    const meta = {
      keyGroups: [{ ...group, other: [] }],
      usesKeyGroups: false,
      shamirThreshold: undefined,
    } as unknown as SopsMetadata;
    const r = await unwrapDataKey(meta, { age: new AgeIdentities([]), kms: async () => kms });
    assert.deepEqual(r.dataKey, DATA_KEY);
    assert.deepEqual(r.unwrappedBy, [`kms:${EAST}`]);
  });
});

describe('ARNs and regions', () => {
  test('the region comes from the ARN, whatever AWS_REGION says', async () => {
    resetCounts(server);
    const kms = source(server);
    const east = await kms.encrypt({ arn: EAST }, DATA_KEY);
    const paris = await kms.encrypt({ arn: PARIS }, DATA_KEY);
    assert.deepEqual(await kms.decrypt(paris), DATA_KEY);
    assert.deepEqual(await kms.decrypt(east), DATA_KEY);
    assert.deepEqual(
      server.requests.map((r) => [r.op, r.region]),
      [
        ['Encrypt', 'us-east-1'],
        ['Encrypt', 'eu-west-3'],
        ['Decrypt', 'eu-west-3'],
        ['Decrypt', 'us-east-1'],
      ],
    );
  });

  test('alias ARNs are accepted', async () => {
    const kms = source(server);
    assert.deepEqual(await kms.decrypt(await kms.encrypt({ arn: ALIAS }, DATA_KEY)), DATA_KEY);
  });

  test('a malformed ARN is a KeyFormatError naming it, before any network call', async () => {
    resetCounts(server);
    const kms = source(server);
    for (const arn of [
      'arn:aws:iam::111122223333:role/x',
      'alias/foo',
      'arn:aws:kms:us-east-1:acct:key/1',
      '0f1e2d3c-aaaa',
    ]) {
      await assert.rejects(
        kms.encrypt({ arn }, DATA_KEY),
        (e: unknown) => e instanceof KeyFormatError && e.message.includes(`"${arn}"`),
      );
      await assert.rejects(
        kms.decrypt({ arn, enc: 'AAAA', createdAt: '', awsProfile: '' }),
        (e: unknown) => e instanceof KeyFormatError && e.message.includes(arn),
      );
    }
    assert.deepEqual(server.counts, {});
  });

  test('enc that is not strict base64 is a MetadataError, before any network call', async () => {
    resetCounts(server);
    const kms = source(server);
    await assert.rejects(kms.decrypt({ arn: EAST, enc: 'not base64!', createdAt: '', awsProfile: '' }), MetadataError);
    assert.deepEqual(server.counts, {});
  });
});

describe('endpoint and credentials from the environment', () => {
  test('the SDK itself honours AWS_ENDPOINT_URL_KMS and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in process.env', async () => {
    resetCounts(server);
    const stanza = await withProcessEnv(
      {
        AWS_ENDPOINT_URL_KMS: server.url,
        AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
      },
      async () => {
        const kms = awsKmsKeySource({ env: {} }); // nothing passed: the SDK's default chain does it all
        const s = await kms.encrypt({ arn: EAST }, DATA_KEY);
        assert.deepEqual(await kms.decrypt(s), DATA_KEY);
        return s;
      },
    );
    assert.equal(stanza.awsProfile, '');
    assert.deepEqual(server.counts, { Encrypt: 1, Decrypt: 1 });
    assert.ok(server.requests.every((r) => r.accessKeyId === CREDS.accessKeyId && !r.sessionToken));
  });

  test('the generic AWS_ENDPOINT_URL applies too (from the env we are given)', async () => {
    const kms = awsKmsKeySource({
      env: { ...envFor(server), AWS_ENDPOINT_URL_KMS: undefined, AWS_ENDPOINT_URL: server.url },
    });
    assert.deepEqual(await kms.decrypt(await kms.encrypt({ arn: EAST }, DATA_KEY)), DATA_KEY);
  });

  test('a wrong secret is refused: InvalidSignatureException, not retried, secret not echoed', async () => {
    resetCounts(server);
    const kms = awsKmsKeySource({
      env: envFor(server, { AWS_SECRET_ACCESS_KEY: 'wrong-secret-value' }),
      retryDelayMs: 5,
    });
    const e = await rejectsKms(kms.encrypt({ arn: EAST }, DATA_KEY));
    assert.equal(e.awsCode, 'InvalidSignatureException');
    assert.equal(e.operation, 'Encrypt');
    assert.equal(e.code, 'KMS_ENCRYPT');
    assert.equal(e.exitCode, 1);
    assert.ok(!e.message.includes('wrong-secret-value'));
    assert.match(e.hint ?? '', /credentials/);
    assert.deepEqual(server.counts, { Encrypt: 1 });
  });

  test('an unknown access key is refused: UnrecognizedClientException', async () => {
    const kms = awsKmsKeySource({ env: envFor(server, { AWS_ACCESS_KEY_ID: 'AKIDUNKNOWN' }), retryDelayMs: 5 });
    const e = await rejectsKms(kms.encrypt({ arn: EAST }, DATA_KEY));
    assert.equal(e.awsCode, 'UnrecognizedClientException');
  });

  test('a stray AWS_SESSION_TOKEN with long-term keys is refused (the token is signed and checked)', async () => {
    const kms = awsKmsKeySource({ env: envFor(server, { AWS_SESSION_TOKEN: 'made-up-token' }), retryDelayMs: 5 });
    const e = await rejectsKms(kms.encrypt({ arn: EAST }, DATA_KEY));
    assert.equal(e.awsCode, 'UnrecognizedClientException');
  });
});

describe('named profiles', () => {
  function writeProfiles(): { config: string; credentials: string } {
    const dir = mkdtempSync(join(work, 'profiles-'));
    const config = join(dir, 'config');
    const credentials = join(dir, 'credentials');
    writeFileSync(config, '[profile other]\nregion = us-west-2\n');
    writeFileSync(
      credentials,
      `[ci]\naws_access_key_id = ${CREDS.accessKeyId}\naws_secret_access_key = ${CREDS.secretAccessKey}\n`,
    );
    return { config, credentials };
  }

  test("a stanza's aws_profile selects that shared-config profile, over the environment's keys (as sops)", async () => {
    const files = writeProfiles();
    resetCounts(server);
    await withProcessEnv(
      { AWS_CONFIG_FILE: files.config, AWS_SHARED_CREDENTIALS_FILE: files.credentials },
      async () => {
        // The environment's static keys are unknown to the server: only the profile's keys work.
        const kms = source(server, { env: envFor(server, { AWS_ACCESS_KEY_ID: 'AKIDUNKNOWN' }) });
        const stanza = await kms.encrypt({ arn: EAST, awsProfile: 'ci' }, DATA_KEY);
        assert.equal(stanza.awsProfile, 'ci');
        assert.deepEqual(await kms.decrypt(stanza), DATA_KEY);
        // Without the profile, the environment's (unknown) keys are used and refused.
        const e = await rejectsKms(kms.decrypt({ ...stanza, awsProfile: '' }));
        assert.equal(e.awsCode, 'UnrecognizedClientException');
      },
    );
  });

  test('AWS_PROFILE from the environment applies when the stanza names no profile and no keys are set', async () => {
    const files = writeProfiles();
    await withProcessEnv(
      { AWS_CONFIG_FILE: files.config, AWS_SHARED_CREDENTIALS_FILE: files.credentials },
      async () => {
        const kms = source(server, {
          env: envFor(server, { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_PROFILE: 'ci' }),
        });
        const stanza = await kms.encrypt({ arn: EAST }, DATA_KEY);
        assert.equal(
          stanza.awsProfile,
          '',
          'AWS_PROFILE is not recorded in the file (only an explicit key profile is)',
        );
        assert.deepEqual(await kms.decrypt(stanza), DATA_KEY);
      },
    );
  });

  test('an unknown profile fails with the SDK credentials error, naming the ARN', async () => {
    const files = writeProfiles();
    await withProcessEnv(
      { AWS_CONFIG_FILE: files.config, AWS_SHARED_CREDENTIALS_FILE: files.credentials },
      async () => {
        const kms = source(server);
        const e = await rejectsKms(kms.decrypt({ arn: EAST, enc: 'AAAA', createdAt: '', awsProfile: 'nope' }));
        assert.equal(e.awsCode, 'CredentialsProviderError');
        assert.ok(e.message.includes(EAST));
      },
    );
  });
});

describe('role assumption', () => {
  test('STS AssumeRole once as sops@<hostname>, then KMS with the temporary credentials', async () => {
    resetCounts(server);
    server.assumedRoles.length = 0;
    const kms = source(server, { hostname: 'build-01.example.com' });
    const stanza = await kms.encrypt({ arn: EAST, role: ROLE }, DATA_KEY);
    assert.deepEqual(await kms.decrypt(stanza), DATA_KEY);
    assert.deepEqual(await kms.decrypt(stanza), DATA_KEY);
    assert.deepEqual(server.counts, { AssumeRole: 1, Encrypt: 1, Decrypt: 2 });
    // sops's sanitizer strips '-' (its class "@-_" is a range).
    assert.deepEqual(
      server.assumedRoles.map((r) => [r.roleArn, r.sessionName]),
      [[ROLE, 'sops@build01.example.com']],
    );
    const temp = server.assumedRoles[0]!.accessKeyId;
    const kmsCalls = server.requests.filter((r) => r.service === 'kms');
    assert.ok(kmsCalls.every((r) => r.accessKeyId === temp && r.sessionToken && r.status === 200));
    const sts = server.requests.find((r) => r.service === 'sts');
    assert.deepEqual([sts?.region, sts?.accessKeyId], ['us-east-1', CREDS.accessKeyId]);
  });

  test('a role STS refuses fails the KMS call with AccessDenied naming the role and the ARN', async () => {
    const other = 'arn:aws:iam::111122223333:role/not-allowed';
    const kms = source(server);
    const e = await rejectsKms(kms.decrypt({ arn: EAST, role: other, enc: 'AAAA', createdAt: '', awsProfile: '' }));
    assert.equal(e.awsCode, 'AccessDenied');
    assert.equal(e.exitCode, 128);
    assert.ok(e.message.includes(EAST) && e.message.includes(other));
  });

  test('a failed AssumeRole is not remembered: the next call assumes the role again', async () => {
    const kms = source(server, { maxAttempts: 2 });
    const stanza = await source(server).encrypt({ arn: EAST }, DATA_KEY);
    server.injectFailures('AssumeRole', 2, '500');
    try {
      const e = await rejectsKms(kms.decrypt({ ...stanza, role: ROLE }));
      assert.equal(e.awsCode, 'InternalFailure');
      assert.match(e.message, /assuming role arn:aws:iam::111122223333:role\/sops-decrypt/);
    } finally {
      server.clearFailures();
    }
    assert.deepEqual(await kms.decrypt({ ...stanza, role: ROLE }), DATA_KEY);
  });

  test('session names: sanitized like sops and cut to 64 characters', () => {
    assert.equal(stsSessionName('host_A.local'), 'sops@host_A.local');
    assert.equal(stsSessionName('my host!'), 'sops@myhost');
    assert.equal(stsSessionName('a'.repeat(100)), `sops@${'a'.repeat(59)}`);
  });
});

describe('retries and outages', () => {
  test('the first 3 Decrypt calls throttled: still succeeds on the 4th (default 5 attempts)', async () => {
    const kms = source(server);
    const stanza = await kms.encrypt({ arn: EAST }, DATA_KEY);
    resetCounts(server);
    server.injectFailures('Decrypt', 3, 'throttle');
    assert.deepEqual(await kms.decrypt(stanza), DATA_KEY);
    assert.deepEqual(server.counts, { Decrypt: 4 });
    assert.deepEqual(
      server.requests.map((r) => r.error ?? r.status),
      ['ThrottlingException', 'ThrottlingException', 'ThrottlingException', 200],
    );
  });

  test('500 on every call: KmsError naming the ARN and the cause after 5 attempts, quickly', async () => {
    const kms = source(server);
    const stanza = await kms.encrypt({ arn: EAST }, DATA_KEY);
    resetCounts(server);
    server.injectFailures('Decrypt', 1000, '500');
    const t0 = Date.now();
    try {
      const e = await rejectsKms(kms.decrypt(stanza));
      assert.equal(e.awsCode, 'KMSInternalException');
      assert.equal(e.exitCode, 128);
      assert.ok(e.message.startsWith(`AWS KMS Decrypt failed for ${EAST}: KMSInternalException (`));
      assert.match(e.hint ?? '', /after 5 attempt/);
      assert.deepEqual(server.counts, { Decrypt: 5 });
      assert.ok(Date.now() - t0 < 5000);
    } finally {
      server.clearFailures();
    }
  });

  test('AWS_MAX_ATTEMPTS changes the retry budget', async () => {
    const kms = source(server, { env: envFor(server, { AWS_MAX_ATTEMPTS: '2' }) });
    resetCounts(server);
    server.injectFailures('Encrypt', 2, 'throttle');
    await rejectsKms(kms.encrypt({ arn: EAST }, DATA_KEY));
    assert.deepEqual(server.counts, { Encrypt: 2 });
  });

  test('connections dropped (KMS down): KmsError after the retry budget', async () => {
    const kms = source(server, { maxAttempts: 3 });
    resetCounts(server);
    server.setDown(true);
    try {
      const e = await rejectsKms(kms.encrypt({ arn: EAST }, DATA_KEY));
      assert.match(e.awsCode, /^(ECONNRESET|EPIPE|ECONNREFUSED)$/);
      assert.equal(e.arn, EAST);
      assert.deepEqual(server.counts, { Encrypt: 3 });
    } finally {
      server.setDown(false);
    }
  });

  test('a slow KMS times out per attempt instead of hanging', async () => {
    const kms = source(server, { maxAttempts: 2, requestTimeoutMs: 100 });
    server.setLatency(400);
    try {
      const e = await rejectsKms(kms.encrypt({ arn: EAST }, DATA_KEY));
      assert.match(e.awsCode, /^(ETIMEDOUT|TimeoutError)$/);
    } finally {
      server.setLatency(0);
    }
    // Latency under the limit only slows things down.
    server.setLatency(30);
    try {
      const ok = source(server);
      assert.deepEqual(await ok.decrypt(await ok.encrypt({ arn: EAST }, DATA_KEY)), DATA_KEY);
    } finally {
      server.setLatency(0);
    }
  });

  test('server gone (connection refused): KmsError ECONNREFUSED naming the ARN', async () => {
    const gone = await startKmsServer({ keys: [EAST], credentials: CREDS });
    const kms = source(gone);
    const stanza: KmsStanza = await kms.encrypt({ arn: EAST }, DATA_KEY);
    await gone.close();
    const t0 = Date.now();
    const e = await rejectsKms(kms.decrypt(stanza));
    assert.equal(e.awsCode, 'ECONNREFUSED');
    assert.ok(e.message.startsWith(`AWS KMS Decrypt failed for ${EAST}: ECONNREFUSED (`));
    assert.ok(Date.now() - t0 < 5000);
  });
});

describe('the test server speaks KMS', () => {
  test('GenerateDataKey, DescribeKey, and Decrypt without a KeyId through the plain SDK client', async () => {
    const client = new KMSClient({ region: 'us-east-1', endpoint: server.url, credentials: CREDS });
    try {
      const dk = await client.send(
        new GenerateDataKeyCommand({ KeyId: EAST, KeySpec: 'AES_256', EncryptionContext: { k: 'v' } }),
      );
      assert.equal(dk.Plaintext?.length, 32);
      const back = await client.send(
        new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob, EncryptionContext: { k: 'v' } }),
      );
      assert.deepEqual(back.Plaintext, dk.Plaintext);
      assert.equal(back.KeyId, EAST);
      const d = await client.send(new DescribeKeyCommand({ KeyId: 'alias/sealant-test' }));
      assert.equal(d.KeyMetadata?.Arn, ALIAS);
      assert.equal(d.KeyMetadata?.KeyState, 'Enabled');
      // A key of another region is not found in this one.
      await assert.rejects(client.send(new DescribeKeyCommand({ KeyId: PARIS })), { name: 'NotFoundException' });
    } finally {
      client.destroy();
    }
  });
});

test('only a dynamic import() loads the KMS module (the CLI must not load the SDK at start-up)', () => {
  const root = new URL('../src/', import.meta.url).pathname;
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('keys/kms.ts')) {
        const text = readFileSync(p, 'utf8');
        // `import type` is erased at compile time; anything else would load the SDK eagerly.
        if (/^\s*import\s+(?!type\s)[^(;]*?from\s+['"](?:[^'"]*\/kms\.js|@aws-sdk\/[^'"]*)['"]/m.test(text))
          offenders.push(p);
      }
    }
  };
  walk(root);
  assert.deepEqual(offenders, []);
});
