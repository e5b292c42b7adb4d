/**
 * Test keys and contexts: identities read from the public test key files, and an ops context
 * with an empty environment and a fixed clock.
 */
import { readFile } from 'node:fs/promises';
import type { AgeIdentity } from '../../src/keys/age.js';
import { AgeIdentities } from '../../src/keys/age.js';
import type { KeySources } from '../../src/keys/datakey.js';
import type { OpsContext } from '../../src/ops/context.js';
import { loadAgeIdentities } from '../../src/ops/identities.js';

/** Identities from one key file (no environment, no default file). */
export function identitiesFromFile(path: string): Promise<AgeIdentity[]> {
  return loadAgeIdentities({ env: {}, identityFiles: [path], homeDir: '/nonexistent', platform: 'linux', readFile: (p) => readFile(p, 'utf8') });
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
