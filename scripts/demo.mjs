#!/usr/bin/env node
// `npm run demo`: the main job on the shipped example — decrypt every environment's files with
// the public demo key, through the real CLI, and show what a deploy would get.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
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
  return r.stdout;
}

for (const envName of ['dev', 'staging', 'prod']) {
  const dir = join('environments', envName);
  for (const file of readdirSync(join(root, dir)).sort()) {
    const path = join(dir, file);
    console.log(`\n=== ${path} (status) ===`);
    process.stdout.write(sealant(['status', path]) + '\n');
    console.log(`=== ${path} (decrypted) ===`);
    process.stdout.write(sealant(['decrypt', path]));
  }
}
