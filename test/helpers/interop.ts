/**
 * The real SOPS files in ../shared/interop/sops with their expected decryptions.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { FileFormat } from '../../src/stores/store.js';
import { sharedPath } from './shared.js';

/** The interop vectors in the shared repository (a test file stops with one line without it). */
export const INTEROP_DIR = sharedPath('interop', 'sops');

export interface ExpectedLeaf {
  path: string[];
  aad: string;
  encrypted: boolean;
  type: string | null;
  value: unknown;
}

export interface Vector {
  /** Path relative to the interop directory. */
  name: string;
  file: string;
  format: FileFormat;
  text: string;
  dataKeyHex: string;
  macPlaintext: string;
  lastmodified: string;
  sopsVersion: string;
  leaves: ExpectedLeaf[];
  comments: { aad: string; text: string }[];
  /** The age key file that decrypts it, or undefined for PGP-only vectors. */
  ageKeyFile: string | undefined;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** Every vector that has an `.expected.json`. */
export function loadVectors(): Vector[] {
  return walk(INTEROP_DIR)
    .filter((p) => p.endsWith('.expected.json'))
    .sort()
    .map((expectedPath) => {
      const file = expectedPath.slice(0, -'.expected.json'.length);
      const e = JSON.parse(readFileSync(expectedPath, 'utf8')) as {
        format: FileFormat;
        data_key_hex: string;
        mac_plaintext: string;
        lastmodified: string;
        sops_version: string;
        decrypt_with: string;
        leaves: ExpectedLeaf[];
        comments?: { aad: string; text: string }[];
      };
      const keyRel = e.decrypt_with.split(' ')[0]!;
      const keyPath = resolve(dirname(file), keyRel);
      return {
        name: relative(INTEROP_DIR, file),
        file,
        format: e.format,
        text: readFileSync(file, 'utf8'),
        dataKeyHex: e.data_key_hex,
        macPlaintext: e.mac_plaintext,
        lastmodified: e.lastmodified,
        sopsVersion: e.sops_version,
        leaves: e.leaves,
        comments: e.comments ?? [],
        ageKeyFile: keyPath.endsWith('.asc') ? undefined : keyPath,
      };
    });
}
