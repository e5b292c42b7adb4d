/**
 * Test keys and contexts: identities read from the public test key files, and an ops context
 * with an empty environment and a fixed clock.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgeIdentity } from '../../src/keys/age.js';
import { AgeIdentities } from '../../src/keys/age.js';
import type { KeySources } from '../../src/keys/datakey.js';
import type { OpsContext } from '../../src/ops/context.js';
import { loadAgeIdentities } from '../../src/ops/identities.js';

/** Identities from one key file (no environment, no default file). */
export function identitiesFromFile(path: string): Promise<AgeIdentity[]> {
  return loadAgeIdentities({
    env: {},
    identityFiles: [path],
    homeDir: '/nonexistent',
    platform: 'linux',
    readFile: (p) => readFile(p, 'utf8'),
  });
}

/** Key sources holding the identities of the given key files. */
export async function sourcesFromFiles(...paths: string[]): Promise<KeySources> {
  const ids = (await Promise.all(paths.map(identitiesFromFile))).flat();
  return { age: new AgeIdentities(ids) };
}

/** An ops context with an empty environment, a fixed (or given) clock and collected warnings. */
export function testContext(now: Date = new Date('2026-01-02T03:04:05Z')): OpsContext & { warnings: string[] } {
  const warnings: string[] = [];
  return { env: {}, cwd: process.cwd(), now: () => now, warn: (m) => warnings.push(m), warnings };
}

/** A fresh age key made with the Debian `age-keygen`: its file and its recipient. */
export interface Key {
  file: string;
  recipient: string;
}

/** Runs `age-keygen -o DIR/NAME.txt` and returns the key. */
export function newAgeKey(dir: string, name: string): Key {
  const file = join(dir, `${name}.txt`);
  execFileSync('age-keygen', ['-o', file], { stdio: 'ignore' });
  return { file, recipient: /public key: (age1[0-9a-z]+)/.exec(readFileSync(file, 'utf8'))![1]! };
}
