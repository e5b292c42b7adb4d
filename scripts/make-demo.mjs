#!/usr/bin/env node
// Regenerates environments/*/ from the demo plaintext below, encrypted to the public demo key
// in environments/demo.agekey. The values are made up; the key is public. Run after `npm run build`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const keyFile = join(root, 'environments', 'demo.agekey');
const recipient = /public key: (age1[0-9a-z]+)/.exec(readFileSync(keyFile, 'utf8'))[1];

const app = (env, host, replicas, extra = '') => `# ${env} settings for the demo "shop" application
app:
    name: shop
    log_level: ${env === 'prod' ? 'warn' : 'debug'}
    replicas: ${replicas}
    # feature flags
    features:
        new_checkout: ${env !== 'prod'}
        recommendations: true
db:
    host: ${host}
    port: 5432
    user: shop_${env}
    password: demo-${env}-db-password-${env.length * 7919}
stripe:
    api_key: demo-${env}-stripe-key-not-real
    webhook_secret: demo-${env}-webhook-secret
${extra}public_unencrypted:
    support_email: support@example.com
`;

const files = {
  dev: app(
    'dev',
    'localhost',
    1,
    'tls:\n    cert: |\n        -----BEGIN CERTIFICATE-----\n        MIIBdemoDEVcertificateNOTREAL\n        -----END CERTIFICATE-----\n',
  ),
  staging: app('staging', 'db.staging.internal', 2),
  prod: app('prod', 'db.prod.internal', 4),
};

const tmp = mkdtempSync(join(tmpdir(), 'sealant-demo-'));
try {
  for (const [env, text] of Object.entries(files)) {
    const plain = join(tmp, `${env}.yaml`);
    writeFileSync(plain, text, { mode: 0o600 });
    mkdirSync(join(root, 'environments', env), { recursive: true });
    const out = join(root, 'environments', env, 'app.yaml');
    rmSync(out, { force: true });
    const r = spawnSync(
      process.execPath,
      [join(root, 'bin', 'run.js'), 'encrypt', '--age', recipient, '--output', out, plain],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(r.stderr);
    console.log(`wrote ${out}`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
