/**
 * Recognising plaintext that `sealant render` wrote, by content, so that `guard` can stop it
 * from being committed wherever it was saved. Pure: callers pass the text and the names.
 *
 * The heuristic, kept simple on purpose:
 * - a Kubernetes `Secret` carrying the `sealant.dev/content-hash` annotation or the
 *   `app.kubernetes.io/managed-by: sealant` label (what render's k8s format always writes);
 * - a `.env`-style text (any file name) with at least {@link MIN_MATCHES} `NAME=` lines whose
 *   names are variable names an owned environment renders to (`db.password` → `DB_PASSWORD`,
 *   with the environment's `render.dotenv` naming);
 * - a plaintext JSON/YAML file with at least {@link MIN_MATCHES} leaf key paths (`db.password`)
 *   that an owned environment also has.
 * Fewer matches are let through: three shared names are rare by chance, one or two are not
 * (`PORT`, `HOST`).
 */
import { parseAllDocuments } from 'yaml';
import { CONTENT_HASH_ANNOTATION, MANAGED_BY_LABEL } from '../render/k8s.js';
import { flattenTree } from '../render/values.js';
import type { StoreDocument } from '../stores/store.js';

/** Matches needed before a file counts as a rendered form of an environment. */
export const MIN_MATCHES = 3;

/** What one environment renders to: variable names and dotted key paths (never values). */
export interface RenderedNames {
  environment: string;
  envNames: ReadonlySet<string>;
  keyPaths: ReadonlySet<string>;
}

/** One hit: the line it starts at and a value-free message. */
export interface RenderedHit {
  line: number;
  message: string;
}

const DOTENV_LINE = /^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=/;

interface SecretShape {
  kind?: unknown;
  metadata?: { labels?: Record<string, unknown>; annotations?: Record<string, unknown> };
}

/** Rendered Kubernetes Secrets in YAML (or JSON) text, one hit per manifest. */
export function renderedSecrets(text: string): RenderedHit[] {
  // Cheap filter first: most staged files never mention sealant.
  if (!text.includes(CONTENT_HASH_ANNOTATION) && !text.includes(MANAGED_BY_LABEL)) return [];
  const hits: RenderedHit[] = [];
  let docs;
  try {
    docs = parseAllDocuments(text, { uniqueKeys: false });
  } catch {
    return [];
  }
  for (const d of Array.isArray(docs) ? docs : [docs]) {
    const value = d.toJS({ maxAliasCount: 100 }) as SecretShape | null;
    if (value === null || typeof value !== 'object' || 'sops' in value || value.kind !== 'Secret') continue;
    const byHash = value.metadata?.annotations?.[CONTENT_HASH_ANNOTATION] !== undefined;
    const byLabel = value.metadata?.labels?.[MANAGED_BY_LABEL] === 'sealant';
    if (!byHash && !byLabel) continue;
    const line = text.slice(0, d.range[0]).split('\n').length;
    hits.push({
      line,
      message: `Kubernetes Secret rendered by sealant (${byHash ? CONTENT_HASH_ANNOTATION : `${MANAGED_BY_LABEL}: sealant`}) is plaintext`,
    });
  }
  return hits;
}

/** A `.env`-style text whose variable names are those of an owned environment. */
export function renderedDotenv(text: string, owned: readonly RenderedNames[]): RenderedHit[] {
  const names = new Map<string, number>();
  text.split('\n').forEach((l, i) => {
    const m = DOTENV_LINE.exec(l);
    if (m !== null && !names.has(m[1]!)) names.set(m[1]!, i + 1);
  });
  if (names.size < MIN_MATCHES) return [];
  for (const env of owned) {
    const lines = [...names].filter(([n]) => env.envNames.has(n)).map(([, line]) => line);
    if (lines.length >= MIN_MATCHES)
      return [
        {
          line: Math.min(...lines),
          message: `${lines.length} variables match environment "${env.environment}": looks like \`sealant render\` output`,
        },
      ];
  }
  return [];
}

/** A plaintext JSON/YAML document whose key paths are those of an owned environment. */
export function renderedTree(doc: StoreDocument, owned: readonly RenderedNames[]): RenderedHit[] {
  const paths = new Set(doc.documents.flatMap((d) => flattenTree(d).map(([, , key]) => key)));
  if (paths.size < MIN_MATCHES) return [];
  for (const env of owned) {
    const matches = [...paths].filter((p) => env.keyPaths.has(p)).length;
    if (matches >= MIN_MATCHES)
      return [
        {
          line: 1,
          message: `${matches} key paths match environment "${env.environment}": looks like \`sealant render\` output`,
        },
      ];
  }
  return [];
}

/** Names that say "decrypted" (`app.dec.yaml`, `secrets.decrypted.json`, `x.dec`). */
export function decryptedName(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return /\.(dec|decrypted)(\.|$)/i.test(base);
}
