/**
 * Kubernetes Secrets from a decrypted tree (`sealant render --format k8s`, the KRM function).
 * Pure: no fs, no env, no clock. Produces plain `v1.Secret` objects; {@link secretsToYaml}
 * writes them as one multi-document YAML stream.
 *
 * Everything the API server would reject is caught here, with a message that names the Secret
 * and the key path (never a value): object names, Secret keys, labels, the keys that typed
 * Secrets require, and the 1 MiB size limit.
 */
import { createHash } from 'node:crypto';
import { formatPath, UsageError } from '../errors.js';
import { compileGoRegex, type GoRegex } from '../format/selectors.js';
import type { MapNode, TreePath } from '../format/tree.js';
import { plainToYaml } from './json.js';
import type { SecretSpec } from './settings.js';
import { flattenTree, hasLoneSurrogate, RenderError } from './values.js';

/** Label put on every Secret so that `kubectl get secrets -l app.kubernetes.io/managed-by=sealant` finds them. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

/** Annotation holding {@link contentHash} of the Secret's data. */
export const CONTENT_HASH_ANNOTATION = 'sealant.dev/content-hash';

export type SecretMetadata = {
  name: string;
  namespace?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
};

/** A `v1.Secret` as plain data (a type alias, so it is assignable to {@link PlainData}). */
export type SecretManifest = {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: SecretMetadata;
  type: string;
  immutable?: boolean;
  /** Base64 of each value's UTF-8 bytes (encoding `data`). */
  data?: Record<string, string>;
  /** The values as they are (encoding `stringData`). */
  stringData?: Record<string, string>;
};

/** Command-line settings that win over the specs of `.sealant.yaml`. */
export interface SecretOverrides {
  /** Only when exactly one Secret is rendered. */
  name?: string;
  namespace?: string;
  /** Merged over each spec's labels. */
  labels?: Record<string, string>;
  /** Merged over each spec's annotations. */
  annotations?: Record<string, string>;
  type?: string;
  encoding?: 'data' | 'stringData';
  immutable?: boolean;
}

export interface RenderSecretsOptions {
  /** Name of the environment: the name of the default Secret. */
  environment: string;
  /** `render.secrets` of the environment; default one Opaque Secret with every value. */
  specs?: readonly SecretSpec[];
  overrides?: SecretOverrides;
}

/** Kubernetes `MaxSecretSize`: the sum of the values' sizes. */
const MAX_SECRET_BYTES = 1024 * 1024;

const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS_SUBDOMAIN = new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`);
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** A record whose keys may be anything, `__proto__` included (plain assignment would set the prototype). */
function record(entries: Iterable<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of entries)
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

// --- names ---------------------------------------------------------------------------------------

function checkObjectName(what: 'name' | 'namespace', value: string, secret: string): void {
  const ok =
    what === 'name'
      ? value.length <= 253 && DNS_SUBDOMAIN.test(value)
      : value.length <= 63 && new RegExp(`^${DNS_LABEL}$`).test(value);
  if (!ok) {
    const rule =
      what === 'name'
        ? 'a DNS subdomain: lowercase letters, digits, "-" and ".", at most 253 characters'
        : 'a DNS label: lowercase letters, digits and "-", at most 63 characters';
    throw new RenderError('RENDER_INVALID_NAME', `Secret ${what} "${value}" (Secret ${secret}) is not ${rule}`, {
      hint:
        what === 'name'
          ? 'set render.secrets[].name in .sealant.yaml, or pass --name'
          : 'fix render.secrets[].namespace, or pass --namespace',
    });
  }
}

/** Kubernetes `IsQualifiedName`, the rule for label and annotation keys. */
function isQualifiedName(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && !(prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix))) return false;
  return name.length <= 63 && QUALIFIED_NAME.test(name);
}

function checkMetadataMap(kind: 'label' | 'annotation', entries: Record<string, string>, secret: string): void {
  for (const [key, value] of Object.entries(entries)) {
    if (!isQualifiedName(key)) {
      throw new RenderError(
        'RENDER_INVALID_NAME',
        `${kind} key "${key}" of Secret ${secret} is not a qualified name ([prefix/]name, name at most 63 characters)`,
      );
    }
    // Label values are selectors, so Kubernetes restricts them; annotation values are free text.
    if (kind === 'label' && !(value.length <= 63 && LABEL_VALUE.test(value))) {
      throw new RenderError(
        'RENDER_INVALID_NAME',
        `label ${key} of Secret ${secret} has a value that is not a valid label value (at most 63 letters, digits, "-", "_", ".")`,
      );
    }
  }
}

/** Kubernetes `IsConfigMapKey`, the rule for Secret keys. */
function configMapKeyProblem(key: string): string | undefined {
  if (key.length > 253) return 'is longer than 253 characters';
  if (!/^[-._a-zA-Z0-9]+$/.test(key)) return 'may hold only letters, digits, "-", "_" and "."';
  if (key === '.' || key === '..' || key.startsWith('..')) return 'may not be "." or start with ".."';
  return undefined;
}

// --- selection -----------------------------------------------------------------------------------

interface Leaf {
  path: TreePath;
  key: string;
  value: string;
}

/**
 * One segment of a `keys` pattern: `*` is any text (dots included: a key may hold them). The
 * pattern comes from a config anyone can edit in a pull request, and `*a*a*…*b` takes a
 * backtracking engine exponential time on a long key: RE2 matches it in one pass.
 */
function segmentRegExp(segment: string): GoRegex {
  return compileGoRegex(
    `^${segment
      .split('*')
      .map((part) => part.replace(/[\\^$.|?+()[\]{}]/g, '\\$&'))
      .join('(?s:.*)')}$`,
  );
}

/**
 * A `keys` pattern (`db.*`, `db.**`, `**.password`, `tls.crt`) as a test of a leaf's path. The
 * pattern is split at dots and matched segment by segment: `*` within a segment is any text; a
 * `**` segment is one or more segments at the end (`db.**`: everything below `db`) and zero or
 * more elsewhere (`**.password`: a `password` key at any depth). Because keys may hold dots
 * themselves (`tls.crt` written as one key), a pattern without `*` also matches the leaf whose
 * whole dotted key it is.
 */
function keyPattern(pattern: string): (leaf: Leaf) => boolean {
  const segments = pattern.split('.').map((s) => (s === '**' ? undefined : segmentRegExp(s)));
  const matchPath = (path: readonly string[]): boolean => {
    // Memoised on (segment, position): a run of `**` segments would otherwise try every split.
    const memo = new Map<number, boolean>();
    const match = (i: number, j: number): boolean => {
      if (i === segments.length) return j === path.length;
      const at = i * (path.length + 1) + j;
      let hit = memo.get(at);
      if (hit !== undefined) return hit;
      const seg = segments[i];
      if (seg === undefined) {
        hit = false;
        for (let k = j + (i === segments.length - 1 ? 1 : 0); k <= path.length && !hit; k += 1) hit = match(i + 1, k);
      } else {
        hit = j < path.length && seg.test(path[j] ?? '') && match(i + 1, j + 1);
      }
      memo.set(at, hit);
      return hit;
    };
    return match(0, 0);
  };
  const literal = !pattern.includes('*');
  return (leaf) => matchPath(leaf.path.map(String)) || (literal && leaf.key === pattern);
}

/** The leaves a spec selects, in document order. @throws RenderError RENDER_NO_MATCH. */
function selectLeaves(all: readonly Leaf[], patterns: readonly string[] | undefined, secret: string): Leaf[] {
  if (patterns === undefined) return [...all];
  const tests = patterns.map((pattern) => ({ pattern, test: keyPattern(pattern) }));
  for (const { pattern, test } of tests) {
    if (!all.some(test)) {
      throw new RenderError('RENDER_NO_MATCH', `keys pattern "${pattern}" of Secret ${secret} selects no value`, {
        hint: 'patterns match dotted paths of values: "db.*" selects the values directly under db, "db.**" everything below it',
      });
    }
  }
  return all.filter((leaf) => tests.some(({ test }) => test(leaf)));
}

/** `db.password` → `password` under strip prefix `db`; paths not strictly below the prefix keep their full key. */
function stripKey(key: string, prefix: string | undefined): string {
  return prefix !== undefined && key.startsWith(`${prefix}.`) ? key.slice(prefix.length + 1) : key;
}

/** Secret key → value, with every key checked and no two paths on one key. */
function secretEntries(leaves: readonly Leaf[], stripPrefix: string | undefined, secret: string): Map<string, string> {
  const owners = new Map<string, TreePath>();
  const out = new Map<string, string>();
  for (const leaf of leaves) {
    const key = stripKey(leaf.key, stripPrefix);
    const problem = configMapKeyProblem(key);
    if (problem !== undefined) {
      throw new RenderError('RENDER_INVALID_NAME', `Secret key "${key}" of Secret ${secret} ${problem}`, {
        path: leaf.path,
        hint: 'rename the key, or choose other keys/strip_prefix in render.secrets',
      });
    }
    const owner = owners.get(key);
    if (owner !== undefined) {
      throw new RenderError(
        'RENDER_NAME_COLLISION',
        `${formatPath(owner)} and ${formatPath(leaf.path)} both become key "${key}" of Secret ${secret}`,
        { path: leaf.path },
      );
    }
    if (hasLoneSurrogate(leaf.value)) {
      // Buffer.from would quietly write U+FFFD in its place: the Secret would hold another value.
      throw new RenderError(
        'RENDER_UNREPRESENTABLE',
        `the value of key "${key}" of Secret ${secret} is not valid Unicode (unpaired surrogate) and has no UTF-8 form`,
        { path: leaf.path },
      );
    }
    owners.set(key, leaf.path);
    out.set(key, leaf.value);
  }
  return out;
}

// --- typed Secrets -------------------------------------------------------------------------------

function isJsonObject(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false; // the parser's message quotes the input: never pass it on
  }
}

/**
 * What the API server requires of each built-in type (`ValidateSecret` in
 * `pkg/apis/core/validation`): a missing key or bad JSON fails `kubectl apply`, so it fails here,
 * before deploy.
 */
function typeProblem(
  type: string,
  entries: ReadonlyMap<string, string>,
  annotations: Record<string, string>,
): string | undefined {
  const need = (...keys: string[]): string | undefined => {
    const missing = keys.filter((k) => !entries.has(k));
    return missing.length === 0 ? undefined : `needs the key(s) ${missing.join(', ')}`;
  };
  const json = (key: string): string | undefined =>
    need(key) ?? (isJsonObject(entries.get(key) ?? '') ? undefined : `needs ${key} to hold a JSON object`);
  switch (type) {
    case 'kubernetes.io/tls':
      return need('tls.crt', 'tls.key');
    case 'kubernetes.io/dockerconfigjson':
      return json('.dockerconfigjson');
    case 'kubernetes.io/dockercfg':
      return json('.dockercfg');
    case 'kubernetes.io/basic-auth':
      return entries.has('username') || entries.has('password') ? undefined : 'needs a username or a password key';
    case 'kubernetes.io/ssh-auth':
      return need('ssh-privatekey');
    case 'kubernetes.io/service-account-token':
      return annotations['kubernetes.io/service-account.name'] === undefined
        ? 'needs the annotation kubernetes.io/service-account.name'
        : undefined;
    default:
      return undefined;
  }
}

// --- the manifest --------------------------------------------------------------------------------

/**
 * `sha256:<hex>` over the Secret's key/value pairs sorted by key (as a JSON array, so no two
 * different sets of pairs encode alike). A Deployment that copies it into its pod template rolls
 * when a value changes; it does not depend on key order, encoding or metadata.
 *
 * It is a plain hash of secret values. Inside the Secret that is harmless: whoever can read the
 * annotation can read the data. A keyed HMAC would matter once the hash is published where the
 * values are not (a pod template annotation readable by people without Secret access): a hash
 * of a Secret whose only value is guessable (a short PIN) can be confirmed offline there. Keep
 * such a value in a Secret with a long random one, or don't copy the hash out.
 */
export function contentHash(entries: ReadonlyMap<string, string>): string {
  const pairs = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `sha256:${createHash('sha256').update(JSON.stringify(pairs), 'utf8').digest('hex')}`;
}

/** Metadata of one Secret, checked; sealant's label and annotation win over the settings'. */
function metadataOf(
  spec: SecretSpec,
  overrides: SecretOverrides,
  entries: ReadonlyMap<string, string>,
): SecretMetadata {
  const name = overrides.name ?? spec.name;
  const namespace = overrides.namespace ?? spec.namespace;
  checkObjectName('name', name, name);
  if (namespace !== undefined) checkObjectName('namespace', namespace, name);
  const labels = { ...spec.labels, ...overrides.labels, [MANAGED_BY_LABEL]: 'sealant' };
  const annotations = {
    ...spec.annotations,
    ...overrides.annotations,
    [CONTENT_HASH_ANNOTATION]: contentHash(entries),
  };
  checkMetadataMap('label', labels, name);
  checkMetadataMap('annotation', annotations, name);
  return namespace === undefined ? { name, labels, annotations } : { name, namespace, labels, annotations };
}

/** What the API server checks of the content: the type's required keys and the size limit. */
function checkContent(metadata: SecretMetadata, type: string, entries: ReadonlyMap<string, string>): void {
  const problem = typeProblem(type, entries, metadata.annotations);
  if (problem !== undefined) {
    throw new RenderError('RENDER_INVALID_SECRET', `Secret ${metadata.name} of type ${type} ${problem}`, {
      hint: 'select the keys with render.secrets[].keys and strip_prefix',
    });
  }
  let size = 0;
  for (const v of entries.values()) size += Buffer.byteLength(v, 'utf8');
  if (size > MAX_SECRET_BYTES)
    throw new RenderError('RENDER_INVALID_SECRET', `Secret ${metadata.name} holds more than Kubernetes' 1 MiB limit`, {
      hint: 'split it into several render.secrets',
    });
}

function renderOne(leaves: readonly Leaf[], spec: SecretSpec, overrides: SecretOverrides): SecretManifest {
  const secret = overrides.name ?? spec.name;
  const entries = secretEntries(selectLeaves(leaves, spec.keys, secret), spec.stripPrefix, secret);
  const metadata = metadataOf(spec, overrides, entries);
  const type = overrides.type ?? spec.type ?? 'Opaque';
  checkContent(metadata, type, entries);
  const manifest: SecretManifest = { apiVersion: 'v1', kind: 'Secret', metadata, type };
  const immutable = overrides.immutable ?? spec.immutable;
  if (immutable !== undefined) manifest.immutable = immutable;
  if ((overrides.encoding ?? spec.encoding ?? 'data') === 'stringData') manifest.stringData = record(entries);
  else manifest.data = record([...entries].map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')]));
  return manifest;
}

/**
 * The Secrets of one environment. Without specs: one Opaque Secret named after the environment
 * holding every value. Each Secret's keys are the values' dotted key paths (`db.password`;
 * lists by index, `hosts.0`) below the spec's `stripPrefix`; a spec's `keys` patterns (`db.*`
 * one level, `db.**` everything below) select the values, and a value no spec selects is left out.
 * Labels get `app.kubernetes.io/managed-by: sealant`, annotations `sealant.dev/content-hash`
 * ({@link contentHash}); both win over labels and annotations of the same key from the settings.
 * A `stripPrefix` is a dotted path: `db` turns `db.password` into `password`; a value not strictly
 * below it keeps its full key.
 *
 * @throws UsageError when `overrides.name` is given and there is more than one spec.
 * @throws RenderError `RENDER_INVALID_NAME` for an invalid Secret name, namespace, key, label or
 * annotation key; `RENDER_NAME_COLLISION` for two paths on one Secret key or two Secrets with
 * one name; `RENDER_NO_MATCH` for a `keys` pattern that selects nothing; `RENDER_INVALID_SECRET`
 * for a typed Secret without its required keys (tls: `tls.crt`, `tls.key`; dockerconfigjson:
 * `.dockerconfigjson` holding a JSON object; …) or one over 1 MiB; `RENDER_UNREPRESENTABLE` for
 * a value with an unpaired surrogate (no UTF-8 form).
 */
export function renderSecrets(tree: MapNode, opts: RenderSecretsOptions): SecretManifest[] {
  const specs: readonly SecretSpec[] =
    opts.specs !== undefined && opts.specs.length > 0 ? opts.specs : [{ name: opts.environment }];
  const overrides = opts.overrides ?? {};
  if (overrides.name !== undefined && specs.length > 1) {
    throw new UsageError(`--name cannot apply to the ${specs.length} Secrets configured for ${opts.environment}`, {
      hint: 'drop --name, or set the names in render.secrets',
    });
  }
  const leaves: Leaf[] = flattenTree(tree, { separator: '.' }).map(([path, value, key]) => ({ path, key, value }));
  const seen = new Set<string>();
  return specs.map((spec) => {
    const manifest = renderOne(leaves, spec, overrides);
    const id = `${manifest.metadata.namespace ?? ''}/${manifest.metadata.name}`;
    if (seen.has(id))
      throw new RenderError(
        'RENDER_NAME_COLLISION',
        `two Secrets are named ${manifest.metadata.name}${manifest.metadata.namespace === undefined ? '' : ` in namespace ${manifest.metadata.namespace}`}`,
      );
    seen.add(id);
    return manifest;
  });
}

/**
 * The Secrets as one YAML stream, documents separated by `---`; strings that YAML 1.1 readers
 * (Kubernetes' own) would take for another type are quoted. Empty for no Secrets.
 *
 * @throws RenderError `RENDER_UNREPRESENTABLE` for a `stringData` value with an unpaired surrogate.
 */
export function secretsToYaml(manifests: readonly SecretManifest[]): string {
  return manifests.map((m) => plainToYaml(m)).join('---\n');
}
