/**
 * What the use-cases need from the outside world, passed in explicitly so that library code
 * below `ops/` never reads `process.env`, the clock or the user's files on its own.
 */
import { homedir } from 'node:os';
import { readFile } from 'node:fs/promises';
import { AgeIdentities } from '../keys/age.js';
import type { KeySources } from '../keys/datakey.js';
import { loadAgeIdentities } from './identities.js';

export interface OpsContext {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  now: () => Date;
  /** Non-fatal problems for the user (never with a secret value). */
  warn: (message: string) => void;
}

/** The context of the running process. */
export function processContext(warn: (message: string) => void = () => {}): OpsContext {
  return { env: process.env, cwd: process.cwd(), now: () => new Date(), warn };
}

/** Options every decrypting operation accepts. */
export interface KeyOptions {
  /** `--identity FILE` values. */
  identityFiles?: readonly string[];
  /** Pre-built key sources (tests, or a bulk operation sharing one set). */
  sources?: KeySources;
}

/**
 * Key sources for this run: age identities from every SOPS source. Loaded once per command and
 * shared by every file it touches.
 */
export async function keySources(ctx: OpsContext, opts: KeyOptions): Promise<KeySources> {
  if (opts.sources !== undefined) return opts.sources;
  const loadErrors: string[] = [];
  const identities = await loadAgeIdentities({
    env: ctx.env,
    identityFiles: opts.identityFiles ?? [],
    homeDir: homedir(),
    platform: process.platform,
    readFile: (p) => readFile(p, 'utf8'),
    warn: ctx.warn,
    sourceError: (e) => loadErrors.push(e.toOneLine()),
  });
  return { age: new AgeIdentities(identities, loadErrors), ...networkKeySources(ctx) };
}

/** Memoises an async factory so a bulk operation creates one client for all its files. */
function once<T>(factory: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= factory());
}

/**
 * KMS and PGP sources, loaded with `import()` only when a file actually has such stanzas, so
 * CLI start-up never pays for the AWS SDK.
 */
export function networkKeySources(ctx: OpsContext): Pick<KeySources, 'kms' | 'pgp'> {
  return {
    kms: once(async () => (await import('../keys/kms.js')).awsKmsKeySource({ env: ctx.env, now: ctx.now })),
    pgp: once(async () => (await import('../keys/pgp.js')).gpgKeySource({ env: ctx.env, now: ctx.now })),
  };
}
