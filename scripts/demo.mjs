#!/usr/bin/env node
// `npm run demo`: the main job on the shipped example, through the real CLI, with the public
// demo key: who can decrypt what, decrypt the files, then render the dev environment the way a
// deploy would — a .env file and Kubernetes Secret manifests in a private temp directory.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = { ...process.env, SOPS_AGE_KEY_FILE: join(root, 'environments', 'demo.agekey') };
const bin = join(root, 'bin', 'run.js');

function sealant(args) {
  const r = spawnSync(process.execPath, [bin, ...args], { env, cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(r.stderr);
    process.exit(r.status ?? 1);
  }
  return r;
}

function heading(text) {
  console.log(`\n=== ${text} ===`);
}

heading('sealant access (who can decrypt which environment)');
process.stdout.write(sealant(['access']).stdout);

heading('sealant validate --decrypt (schemas/app.schema.json, with the demo key)');
for (const r of [sealant(['validate', '--decrypt'])]) process.stdout.write(r.stdout + r.stderr);
heading('sealant validate --parity (keys present in one environment but not another)');
for (const r of [sealant(['validate', '--parity'])]) process.stdout.write(r.stdout + r.stderr);

for (const envName of ['dev', 'staging', 'prod']) {
  const dir = join('environments', envName);
  for (const file of readdirSync(join(root, dir)).sort()) {
    const path = join(dir, file);
    heading(`sealant decrypt ${path}`);
    process.stdout.write(sealant(['decrypt', path]).stdout);
  }
}

const out = mkdtempSync(join(tmpdir(), 'sealant-demo-'));
try {
  const dotenvFile = join(out, 'dev.env');
  const secretsFile = join(out, 'dev-secrets.yaml');
  const audit = join(out, 'audit.jsonl');
  sealant(['render', '--env', 'dev', '--format', 'dotenv', '--out', dotenvFile, '--audit-log', audit]);
  sealant(['render', '--env', 'dev', '--format', 'k8s', '--out', secretsFile, '--audit-log', audit]);
  heading(`sealant render --env dev --format dotenv --out ${dotenvFile}`);
  process.stdout.write(readFileSync(dotenvFile, 'utf8'));
  heading(`sealant render --env dev --format k8s --out ${secretsFile}`);
  process.stdout.write(readFileSync(secretsFile, 'utf8'));
  heading('audit log (names and git blob ids, never values)');
  process.stdout.write(readFileSync(audit, 'utf8'));
} finally {
  rmSync(out, { recursive: true, force: true });
}
