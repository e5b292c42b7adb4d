/**
 * AWS KMS through the CLI, against the project's own KMS-protocol server on 127.0.0.1 (real
 * @aws-sdk/client-kms, SigV4 checked): age + KMS recipients each decrypt alone; local age is
 * tried first (no KMS call); throttling is retried; KMS down gives an error naming the key and
 * the cause; a bulk operation makes exactly one Decrypt per file.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseMetadata } from '../src/format/metadata.js';
import { storeFor } from '../src/stores/index.js';
import { runCli } from './helpers/cli.js';
import { startKmsServer, type KmsServer } from './helpers/kms-server.js';

const ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const CREDS = { accessKeyId: 'AKIDSEALANTTEST', secretAccessKey: 'sealant/test/secret' };
const root = mkdtempSync(join(tmpdir(), 'sealant-kms-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const ageKey = join(root, 'age.txt');
execFileSync('age-keygen', ['-o', ageKey], { stdio: 'ignore' });
const ageRecipient = /public key: (age1[0-9a-z]+)/.exec(readFileSync(ageKey, 'utf8'))![1]!;

let server: KmsServer;

function awsEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_KMS: server.url,
    AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: join(root, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(root, 'no-credentials'),
    ...extra,
  };
}

function reset(): void {
  server.clearFailures();
  for (const k of Object.keys(server.counts)) delete server.counts[k];
}

describe('AWS KMS through the CLI', () => {
  before(async () => {
    server = await startKmsServer({ keys: [ARN], credentials: CREDS });
  });
  after(async () => {
    await server.close();
  });

  test('a file encrypted to an age recipient and a KMS key decrypts with either one alone', async () => {
    const file = join(root, 'both.yaml');
    writeFileSync(file, 'password: hunter2\n');
    const enc = await runCli(
      ['encrypt', '--in-place', '--age', ageRecipient, '--kms', ARN, '--encryption-context', 'app:shop', file],
      { env: awsEnv() },
    );
    assert.equal(enc.code, 0, enc.stderr);
    const meta = parseMetadata(storeFor('yaml').load(readFileSync(file, 'utf8')).metadata!);
    const kms = meta.keyGroups[0]!.kms[0]!;
    assert.equal(kms.arn, ARN);
    assert.deepEqual(kms.context, { app: 'shop' });
    assert.equal(kms.awsProfile, '');
    assert.match(kms.createdAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    assert.match(
      readFileSync(file, 'utf8'),
      /kms:\n {8}- arn: arn:aws:kms:eu-west-1:111122223333:key\/1234abcd-12ab-34cd-56ef-1234567890ab\n {10}aws_profile: ""\n {10}context:\n {14}app: shop\n {10}created_at: "[^"]+"\n {10}enc: [A-Za-z0-9+/=]+\n/,
    );

    reset();
    const byAge = await runCli(['decrypt', file], { env: awsEnv({ SOPS_AGE_KEY_FILE: ageKey }) });
    assert.equal(byAge.code, 0, byAge.stderr);
    assert.equal(byAge.stdout, 'password: hunter2\n');
    assert.equal(server.counts.Decrypt ?? 0, 0, 'no KMS call when age already unwrapped the key');

    const byKms = await runCli(['decrypt', file], { env: awsEnv() });
    assert.equal(byKms.code, 0, byKms.stderr);
    assert.equal(byKms.stdout, 'password: hunter2\n');
    assert.equal(server.counts.Decrypt, 1);
  });

  test('an unreadable SOPS_AGE_KEY_FILE is recorded and KMS still opens the file; with KMS down: 128 naming both', async () => {
    const file = join(root, 'age-and-kms.yaml');
    writeFileSync(file, 'password: hunter2\n');
    assert.equal(
      (await runCli(['encrypt', '--in-place', '--age', ageRecipient, '--kms', ARN, file], { env: awsEnv() })).code,
      0,
    );
    for (const unreadable of [join(root, 'no-such-key.txt'), root]) {
      reset();
      const r = await runCli(['decrypt', file], { env: awsEnv({ SOPS_AGE_KEY_FILE: unreadable }) });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'password: hunter2\n');
      assert.equal(server.counts.Decrypt, 1);
    }
    reset();
    server.injectFailures('*', 100, '500');
    const down = await runCli(['decrypt', file], {
      env: awsEnv({ SOPS_AGE_KEY_FILE: join(root, 'no-such-key.txt'), AWS_MAX_ATTEMPTS: '1' }),
    });
    server.clearFailures();
    assert.equal(down.code, 128, down.stderr);
    assert.ok(down.stderr.includes(ARN), down.stderr);
    assert.match(
      down.stderr,
      /errors while loading age identities: .*no-such-key\.txt: cannot read age identity file \(SOPS_AGE_KEY_FILE\): no such file/,
    );
    assert.ok(!down.stderr.includes('hunter2'));
  });

  test('throttled three times: decrypt still succeeds after the SDK retries', async () => {
    const file = join(root, 'throttle.yaml');
    writeFileSync(file, 'a: b\n');
    assert.equal((await runCli(['encrypt', '--in-place', '--kms', ARN, file], { env: awsEnv() })).code, 0);
    reset();
    server.injectFailures('Decrypt', 3, 'throttle');
    const r = await runCli(['decrypt', file], { env: awsEnv() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(server.counts.Decrypt, 4);
  });

  test('KMS down: exit 128 with one line naming the key ARN and the cause', async () => {
    const file = join(root, 'down.yaml');
    writeFileSync(file, 'a: b\n');
    assert.equal((await runCli(['encrypt', '--in-place', '--kms', ARN, file], { env: awsEnv() })).code, 0);
    reset();
    server.injectFailures('*', 100, '500');
    const r = await runCli(['decrypt', file], { env: awsEnv({ AWS_MAX_ATTEMPTS: '3' }) });
    server.clearFailures();
    assert.equal(r.code, 128);
    assert.ok(r.stderr.includes(ARN), r.stderr);
    assert.match(r.stderr, /InternalFailure|500|KMSInternal/i);
    assert.equal(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('hint:')).length,
      1,
      r.stderr,
    );
    assert.equal(server.counts.Decrypt, 3, 'within the retry budget');
  });

  test('updatekeys over an environment of 6 KMS files: exactly one Decrypt per file', async () => {
    const repo = mkdtempSync(join(root, 'repo-'));
    writeFileSync(
      join(repo, '.sealant.yaml'),
      ['environments:', '  prod:', '    files: ["prod/*.yaml"]', '    kms:', `      - arn: ${ARN}`, ''].join('\n'),
    );
    mkdirSync(join(repo, 'prod'));
    for (let i = 0; i < 6; i++) {
      writeFileSync(join(repo, `prod/f${i}.yaml`), `k${i}: v\nother: ${i}\n`);
      const r = await runCli(['encrypt', '--in-place', `prod/f${i}.yaml`], { cwd: repo, env: awsEnv() });
      assert.equal(r.code, 0, r.stderr);
    }
    writeFileSync(
      join(repo, '.sealant.yaml'),
      [
        'environments:',
        '  prod:',
        '    files: ["prod/*.yaml"]',
        '    kms:',
        `      - arn: ${ARN}`,
        `    age: [${ageRecipient}]`,
        '',
      ].join('\n'),
    );
    reset();
    const r = await runCli(['updatekeys', '--env', 'prod', '--json'], { cwd: repo, env: awsEnv() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(server.counts.Decrypt, 6);
    assert.equal(server.counts.Encrypt ?? 0, 0, 'the KMS stanza is kept, not re-wrapped');
    const decrypted = await runCli(['decrypt', 'prod/f3.yaml'], { cwd: repo, env: { SOPS_AGE_KEY_FILE: ageKey } });
    assert.equal(decrypted.stdout, 'k3: v\nother: 3\n');
  });
});
