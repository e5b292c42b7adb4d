/**
 * KRM function I/O, pure: the `ResourceList` that kpt and kustomize pipe through an exec function
 * (kustomize `cmd/config/docs/api-conventions/functions-spec.md`), the `sealant.dev/v1`
 * `SecretGenerator` resources found in it, and the output list: generators removed, generated
 * Secrets appended, failures reported as `results`.
 *
 * The input `Document` is kept from parse to write so that every resource the function does not
 * touch goes back out with its comments and kpt's bookkeeping annotations as they came in (kpt
 * writes them back to the package files).
 */
import { CST, isMap, isSeq, Parser, parseDocument, YAMLSeq, type Document, type YAMLMap } from 'yaml';

import { SealantError, type SealantErrorOptions } from '../errors.js';
import { plainToYaml, type PlainData } from '../render/json.js';
import type { SecretSpec } from '../render/settings.js';

/** `apiVersion` of the generator resource. */
export const GENERATOR_API_VERSION = 'sealant.dev/v1';
/** `kind` of the generator resource. */
export const GENERATOR_KIND = 'SecretGenerator';
/** The ResourceList versions accepted; the answer uses the version of the question. */
const RESOURCE_LIST_VERSIONS = ['config.kubernetes.io/v1', 'config.kubernetes.io/v1alpha1'];

/** Where kpt records a resource's file and position inside it (relative to the package). */
export const PATH_ANNOTATION = 'config.kubernetes.io/path';
export const INDEX_ANNOTATION = 'config.kubernetes.io/index';
/** kpt `fn render` only: the absolute directory of the package a resource belongs to. */
export const PACKAGE_PATH_ANNOTATION = 'internal.config.kubernetes.io/package-path';

/** A Kubernetes resource as plain data. */
export type KrmObject = Record<string, unknown>;

/** A reference to the resource a result is about (kpt prints it as `apiVersion/kind/name`). */
export interface ResourceRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

/** One entry of the ResourceList `results` (kpt's v1 result schema). */
export interface KrmResult {
  /** One line; never a secret value, never a stack trace. */
  message: string;
  severity: 'error' | 'warning' | 'info';
  resourceRef?: ResourceRef;
  file?: { path: string; index?: number };
}

/** Where a generator was declared, as far as the orchestrator says. */
export interface GeneratorOrigin {
  /** File relative to the package (kpt), from `config.kubernetes.io/path`. */
  path?: string;
  index?: number;
  /** Absolute package directory (kpt `fn render` only). */
  packagePath?: string;
}

/** A validated `sealant.dev/v1 SecretGenerator`. */
export interface SecretGeneratorConfig {
  /** `metadata.name`: names the generator, and the Secret when no spec names one. */
  name: string;
  /** The environment of `.sealant.yaml` to render. */
  environment: string;
  /** Only these files of the environment, relative to the config file's directory. */
  files?: string[];
  /** The config file, relative to the working directory (default: found upwards). */
  config?: string;
  /** Replaces the environment's `render.secrets`. */
  secrets?: SecretSpec[];
  /** Overrides the namespace of every generated Secret. */
  namespace?: string;
  /** Overrides the type of every generated Secret. */
  type?: string;
  /** Overrides the encoding of every generated Secret. */
  encoding?: 'data' | 'stringData';
  /** As `render --strict`: keys set differently by two files, or values the MAC does not cover, fail the generator. */
  strict?: boolean;
  origin: GeneratorOrigin;
}

/** Standard input is not a ResourceList. Fatal: there is no list to answer with. */
export class KrmInputError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('KRM_INPUT', message, options);
  }
}

/** A SecretGenerator resource is malformed; `path` names the field. */
export class GeneratorError extends SealantError {
  constructor(message: string, options: SealantErrorOptions = {}) {
    super('GENERATOR', message, options);
  }
}

/** A ResourceList read from standard input. */
export interface ParsedResourceList {
  /** The input as read: the answer is this text, edited. */
  text: string;
  /** Kept so untouched items are written back as they came (comments, quoting, annotations). */
  doc: Document;
  apiVersion: string;
  /** Plain copies of the items, index-aligned with the document's `items` sequence. */
  items: KrmObject[];
  functionConfig?: KrmObject;
}

function isObject(v: unknown): v is KrmObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses a ResourceList (YAML or JSON, which is YAML).
 * @throws KrmInputError for invalid YAML (the message gives the line and the parser's error
 * code, never the text), or a document that is not a `config.kubernetes.io/v1` ResourceList.
 */
export function parseResourceList(text: string): ParsedResourceList {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first !== undefined) {
    const line = first.linePos?.[0].line;
    throw new KrmInputError(
      `standard input is not valid YAML${line === undefined ? '' : ` at line ${line}`} (${first.code})`,
    );
  }
  let plain: unknown;
  try {
    plain = doc.toJS({ maxAliasCount: 100 });
  } catch {
    throw new KrmInputError('standard input expands too many YAML aliases');
  }
  if (
    !isObject(plain) ||
    plain.kind !== 'ResourceList' ||
    typeof plain.apiVersion !== 'string' ||
    !RESOURCE_LIST_VERSIONS.includes(plain.apiVersion)
  ) {
    throw new KrmInputError(
      'standard input is not a ResourceList (apiVersion config.kubernetes.io/v1, kind ResourceList)',
      {
        hint: 'run it as a KRM function: `kpt fn eval --exec "sealant krm" DIR`',
      },
    );
  }
  const items = plain.items ?? [];
  if (!Array.isArray(items) || !items.every(isObject))
    throw new KrmInputError('ResourceList "items" is not a list of resources');
  const out: ParsedResourceList = { text, doc, apiVersion: plain.apiVersion, items };
  if (isObject(plain.functionConfig)) out.functionConfig = plain.functionConfig;
  return out;
}

/** True for a `sealant.dev/v1` `SecretGenerator` resource. */
export function isSecretGenerator(obj: KrmObject): boolean {
  return obj.apiVersion === GENERATOR_API_VERSION && obj.kind === GENERATOR_KIND;
}

function annotationsOf(obj: KrmObject): Record<string, unknown> {
  const meta = obj.metadata;
  return isObject(meta) && isObject(meta.annotations) ? meta.annotations : {};
}

function nameOf(obj: KrmObject): string | undefined {
  const meta = obj.metadata;
  return isObject(meta) && typeof meta.name === 'string' ? meta.name : undefined;
}

/** The file and package a resource came from, from kpt's annotations. */
export function originOf(obj: KrmObject): GeneratorOrigin {
  const a = annotationsOf(obj);
  const origin: GeneratorOrigin = {};
  if (typeof a[PATH_ANNOTATION] === 'string') origin.path = a[PATH_ANNOTATION];
  const index = Number(a[INDEX_ANNOTATION]);
  if (typeof a[INDEX_ANNOTATION] === 'string' && Number.isInteger(index)) origin.index = index;
  if (typeof a[PACKAGE_PATH_ANNOTATION] === 'string') origin.packagePath = a[PACKAGE_PATH_ANNOTATION];
  return origin;
}

/** How a result points at a generator. */
export function generatorRef(obj: KrmObject): ResourceRef {
  return { apiVersion: GENERATOR_API_VERSION, kind: GENERATOR_KIND, name: nameOf(obj) ?? '(unnamed)' };
}

const GENERATOR_KEYS = [
  'apiVersion',
  'kind',
  'metadata',
  'environment',
  'files',
  'config',
  'secrets',
  'namespace',
  'type',
  'encoding',
  'strict',
];
const SPEC_KEYS = [
  'name',
  'namespace',
  'type',
  'keys',
  'strip_prefix',
  'labels',
  'annotations',
  'immutable',
  'encoding',
];
// The patterns of schemas/config.schema.json (`$defs.secretSpec`), so a spec valid in one place is valid in the other.
const NAME_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const NAMESPACE_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ENCODINGS = ['data', 'stringData'] as const;

type Path = (string | number)[];

/** Field checks that throw a {@link GeneratorError} naming the field (never echoing its value). */
class FieldReader {
  constructor(private readonly file: string | undefined) {}

  fail(path: Path, message: string, hint?: string): never {
    throw new GeneratorError(message, {
      path,
      ...(this.file === undefined ? {} : { file: this.file }),
      ...(hint === undefined ? {} : { hint }),
    });
  }

  keys(obj: KrmObject, known: readonly string[], path: Path): void {
    for (const k of Object.keys(obj))
      if (!known.includes(k))
        this.fail(
          [...path, k],
          `unknown field (known: ${known.filter((x) => x !== 'apiVersion' && x !== 'kind').join(', ')})`,
        );
  }

  string(v: unknown, path: Path, re?: RegExp, max?: number): string | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') this.fail(path, 'must be a non-empty string');
    if (re !== undefined && (!re.test(v) || (max !== undefined && v.length > max)))
      this.fail(path, 'is not a valid Kubernetes name (lower-case letters, digits, "-")');
    return v;
  }

  stringList(v: unknown, path: Path): string[] | undefined {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0) this.fail(path, 'must be a non-empty list of strings');
    return v.map((s, i) => this.string(s, [...path, i]) ?? this.fail([...path, i], 'must be a string'));
  }

  stringMap(v: unknown, path: Path): Record<string, string> | undefined {
    if (v === undefined) return undefined;
    if (!isObject(v)) this.fail(path, 'must be a mapping of strings');
    for (const [k, s] of Object.entries(v)) if (typeof s !== 'string') this.fail([...path, k], 'must be a string');
    return v as Record<string, string>;
  }

  encoding(v: unknown, path: Path): 'data' | 'stringData' | undefined {
    if (v === undefined) return undefined;
    if (!ENCODINGS.includes(v as 'data')) this.fail(path, 'must be "data" or "stringData"');
    return v as 'data' | 'stringData';
  }

  spec(v: unknown, path: Path): SecretSpec {
    if (!isObject(v)) this.fail(path, 'must be a mapping (a Secret spec as in render.secrets of .sealant.yaml)');
    this.keys(v, SPEC_KEYS, path);
    const spec: SecretSpec = {
      name: this.string(v.name, [...path, 'name'], NAME_RE, 253) ?? this.fail([...path, 'name'], 'is required'),
    };
    const namespace = this.string(v.namespace, [...path, 'namespace'], NAMESPACE_RE, 63);
    if (namespace !== undefined) spec.namespace = namespace;
    const type = this.string(v.type, [...path, 'type']);
    if (type !== undefined) spec.type = type;
    const keys = this.stringList(v.keys, [...path, 'keys']);
    if (keys !== undefined) spec.keys = keys;
    const strip = this.string(v.strip_prefix, [...path, 'strip_prefix']);
    if (strip !== undefined) spec.stripPrefix = strip;
    const labels = this.stringMap(v.labels, [...path, 'labels']);
    if (labels !== undefined) spec.labels = labels;
    const annotations = this.stringMap(v.annotations, [...path, 'annotations']);
    if (annotations !== undefined) spec.annotations = annotations;
    if (v.immutable !== undefined && typeof v.immutable !== 'boolean')
      this.fail([...path, 'immutable'], 'must be true or false');
    if (v.immutable !== undefined) spec.immutable = v.immutable;
    const encoding = this.encoding(v.encoding, [...path, 'encoding']);
    if (encoding !== undefined) spec.encoding = encoding;
    return spec;
  }
}

/**
 * Validates a SecretGenerator resource (an item, the functionConfig, or the file kustomize
 * hands a legacy plugin). Field names use the spelling of `.sealant.yaml` (`strip_prefix`).
 * @param file shown in errors (the generator's file, when known).
 * @throws GeneratorError naming the first bad field (`environment`, `secrets[0].name`…).
 */
export function parseGenerator(obj: KrmObject, file?: string): SecretGeneratorConfig {
  const r: FieldReader = new FieldReader(file);
  if (!isSecretGenerator(obj)) r.fail([], `not a ${GENERATOR_API_VERSION} ${GENERATOR_KIND}`);
  r.keys(obj, GENERATOR_KEYS, []);
  const name = nameOf(obj) ?? r.fail(['metadata', 'name'], 'is required');
  r.string(name, ['metadata', 'name'], NAME_RE, 253);
  const environment =
    r.string(obj.environment, ['environment']) ??
    r.fail(['environment'], 'is required', 'name an environment of .sealant.yaml');
  const gen: SecretGeneratorConfig = { name, environment, origin: originOf(obj) };
  const files = r.stringList(obj.files, ['files']);
  if (files !== undefined) gen.files = files;
  const config = r.string(obj.config, ['config']);
  if (config !== undefined) gen.config = config;
  const secrets: unknown = obj.secrets;
  if (secrets !== undefined) {
    if (!Array.isArray(secrets) || secrets.length === 0)
      r.fail(['secrets'], 'must be a non-empty list of Secret specs');
    gen.secrets = secrets.map((s: unknown, i) => r.spec(s, ['secrets', i]));
  }
  const namespace = r.string(obj.namespace, ['namespace'], NAMESPACE_RE, 63);
  if (namespace !== undefined) gen.namespace = namespace;
  const type = r.string(obj.type, ['type']);
  if (type !== undefined) gen.type = type;
  const encoding = r.encoding(obj.encoding, ['encoding']);
  if (encoding !== undefined) gen.encoding = encoding;
  if (obj.strict !== undefined && typeof obj.strict !== 'boolean') r.fail(['strict'], 'must be true or false');
  if (obj.strict !== undefined) gen.strict = obj.strict;
  return gen;
}

/** A generator found in the list: validated, or the reason it is not. */
export type FoundGenerator =
  | { ok: true; generator: SecretGeneratorConfig; ref: ResourceRef }
  | { ok: false; error: unknown; ref: ResourceRef; origin: GeneratorOrigin };

/**
 * The generators to run: every SecretGenerator item, plus the `functionConfig` when it is one
 * and no item has its name (kpt `fn render` and kustomize pass the config both as
 * `functionConfig` and as an item; it must run once).
 */
export function findGenerators(list: ParsedResourceList): FoundGenerator[] {
  const sources = list.items.filter(isSecretGenerator);
  const fc = list.functionConfig;
  if (fc !== undefined && isSecretGenerator(fc) && !sources.some((s) => nameOf(s) === nameOf(fc))) sources.unshift(fc);
  return sources.map((obj) => {
    const ref = generatorRef(obj);
    const origin = originOf(obj);
    try {
      return { ok: true, generator: parseGenerator(obj, origin.path), ref };
    } catch (error) {
      return { ok: false, error, ref, origin };
    }
  });
}

/**
 * The one-line text of a failure for `results` and stderr. Deliberate errors give their own
 * message (fixed text plus names, never a value); anything else only its class name, because an
 * unexpected error's message was never vetted and could quote decrypted data.
 */
export function failureMessage(err: unknown): string {
  if (err instanceof SealantError) return err.toOneLine().split('\n')[0] ?? err.code;
  return `internal error (${err instanceof Error ? err.name : typeof err}); set DEBUG=sealant for the stack`;
}

/** A result about a generator: kpt shows it next to the generator's resource and file. */
export function generatorResult(
  ref: ResourceRef,
  origin: GeneratorOrigin,
  message: string,
  severity: KrmResult['severity'],
): KrmResult {
  const result: KrmResult = { message, severity, resourceRef: ref };
  if (origin.path !== undefined)
    result.file = origin.index === undefined ? { path: origin.path } : { path: origin.path, index: origin.index };
  return result;
}

/** An error result about a generator. */
export function errorResult(ref: ResourceRef, origin: GeneratorOrigin, err: unknown): KrmResult {
  return generatorResult(ref, origin, failureMessage(err), 'error');
}

/** What one generator produced: its Secrets, or the failure. */
export type GeneratorOutcome = { ref: ResourceRef; origin: GeneratorOrigin } & (
  { ok: true; resources: KrmObject[] } | { ok: false; error: unknown }
);

function identity(obj: KrmObject): string {
  const meta = isObject(obj.metadata) ? obj.metadata : {};
  return `${String(obj.apiVersion)}|${String(obj.kind)}|${String(meta.namespace ?? '')}|${String(meta.name)}`;
}

function describe(obj: KrmObject): string {
  const meta = isObject(obj.metadata) ? obj.metadata : {};
  return `${String(obj.kind)} ${typeof meta.namespace === 'string' ? `${meta.namespace}/` : ''}${String(meta.name)}`;
}

/**
 * Generated resources carry none of the orchestrator's bookkeeping annotations: copying the
 * generator's `config.k8s.io/id` would make kpt take a new Secret for the generator edited.
 */
function clean(resource: KrmObject): KrmObject {
  const meta = isObject(resource.metadata) ? { ...resource.metadata } : {};
  if (isObject(meta.annotations)) {
    const kept = Object.entries(meta.annotations).filter(
      ([k]) => !/^(internal\.)?config\.(kubernetes\.io|k8s\.io)\//.test(k),
    );
    if (kept.length === 0) delete meta.annotations;
    else meta.annotations = Object.fromEntries(kept);
  }
  return { ...resource, metadata: meta };
}

/**
 * With kpt (the generator has a path), each generated resource gets a file of its own next to
 * the generator (`secret_<name>.yaml`, kpt's own naming), both the legacy and the internal
 * annotation: kpt checks that no two resources share a path and index, and when the function
 * fails it does so before naming files itself, so two unnamed Secrets would hide the results
 * behind `resource at path "." and index "" already exists`.
 */
function placed(resource: KrmObject, origin: GeneratorOrigin, used: Set<string>): KrmObject {
  if (origin.path === undefined) return resource;
  const meta = resource.metadata as KrmObject;
  const dir = origin.path.includes('/') ? origin.path.slice(0, origin.path.lastIndexOf('/') + 1) : '';
  const path = `${dir}${String(resource.kind).toLowerCase()}_${String(meta.name)}.yaml`;
  let index = 0;
  while (used.has(`${path}#${index}`)) index++;
  used.add(`${path}#${index}`);
  const at = {
    [PATH_ANNOTATION]: path,
    [INDEX_ANNOTATION]: String(index),
    [`internal.${PATH_ANNOTATION}`]: path,
    [`internal.${INDEX_ANNOTATION}`]: String(index),
  };
  return {
    ...resource,
    metadata: { ...meta, annotations: { ...(isObject(meta.annotations) ? meta.annotations : {}), ...at } },
  };
}

/** The answer to a ResourceList and how many of its results are errors. */
export interface ResourceListOutput {
  text: string;
  errors: number;
  results: KrmResult[];
}

/**
 * Builds the output ResourceList: every SecretGenerator item removed, the generated Secrets
 * appended in generator order, one `severity: error` result per failed generator (its Secrets
 * are left out; the others still appear, so kpt shows every failure at once). A generated
 * resource that has the identity of an input item or of another generated one is an error too:
 * kustomize and kpt would otherwise keep one of them silently.
 */
export function buildResourceList(
  list: ParsedResourceList,
  outcomes: readonly GeneratorOutcome[],
  extra: readonly KrmResult[] = [],
): ResourceListOutput {
  const results: KrmResult[] = [...extra];
  const seen = new Map<string, string>();
  for (const item of list.items) if (!isSecretGenerator(item)) seen.set(identity(item), 'the input');
  const added: KrmObject[] = [];
  const used = new Set(list.items.map((i) => `${originOf(i).path ?? ''}#${originOf(i).index ?? 0}`));
  for (const o of outcomes) {
    if (!o.ok) {
      results.push(errorResult(o.ref, o.origin, o.error));
      continue;
    }
    const clash = o.resources.find((r) => seen.has(identity(r)));
    if (clash !== undefined) {
      const other = seen.get(identity(clash)) ?? 'the input';
      results.push(
        errorResult(
          o.ref,
          o.origin,
          new GeneratorError(`generates ${describe(clash)}, which ${other} already has`, {
            hint: 'give the Secret another name in secrets: or render.secrets',
          }),
        ),
      );
      continue;
    }
    for (const r of o.resources) seen.set(identity(r), `generator "${o.ref.name}"`);
    added.push(...o.resources.map((r) => placed(clean(r), o.origin, used)));
  }
  return {
    text: writeResourceList(list, added, results),
    errors: results.filter((r) => r.severity === 'error').length,
    results,
  };
}

/**
 * Serialises the answer: generators removed, `added` appended, `results` added. The input text is
 * spliced (see {@link spliceResourceList}) so untouched items keep their exact bytes; inputs of
 * another shape (flow style, JSON, results already present) go through the `Document`.
 */
function writeResourceList(
  list: ParsedResourceList,
  added: readonly KrmObject[],
  results: readonly KrmResult[],
): string {
  const keep = list.items.map((item) => !isSecretGenerator(item));
  const spliced = spliceResourceList(list.text, keep, added, results);
  if (spliced !== undefined && sameItems(spliced, [...list.items.filter((_, i) => keep[i]), ...added])) return spliced;
  return rewriteDocument(list, added, results);
}

/** Self-check of the splice: the output parses to exactly the intended items. */
function sameItems(text: string, expected: readonly KrmObject[]): boolean {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) return false;
  const out: unknown = doc.toJS({ maxAliasCount: 100 });
  return isObject(out) && JSON.stringify(out.items) === JSON.stringify(expected);
}

/** Offset of the start of the line holding `offset`. */
function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** `yamlText` (one resource) as an item of a block sequence whose dashes are at column `indent`. */
function seqItemText(yamlText: string, indent: number): string {
  const pad = ' '.repeat(indent);
  const lines = yamlText.replace(/\n$/, '').split('\n');
  return `${lines.map((l, i) => (i === 0 ? `${pad}- ${l}` : l === '' ? '' : `${pad}  ${l}`)).join('\n')}\n`;
}

/** The value token of the top-level key `name`. */
function topLevel(map: CST.BlockMap, name: string): CST.Token | undefined {
  const entry = map.items.find(
    (it) => it.key !== undefined && it.key !== null && CST.resolveAsScalar(it.key)?.value === name,
  );
  return entry?.value ?? undefined;
}

/**
 * Edits the ResourceList as text, using the CST's offsets: the removed items' lines are cut, the
 * new items written after the last item at the same indentation, `results` added at the end of
 * the top-level mapping. Re-stringifying the `Document` instead would move a comment kpt put
 * after an item's dash (`- # comment`) before it, which kpt then writes out twice.
 * @returns undefined when the input is not the block-style single document this handles.
 */
function spliceResourceList(
  text: string,
  keep: readonly boolean[],
  added: readonly KrmObject[],
  results: readonly KrmResult[],
): string | undefined {
  const docs = [...new Parser().parse(text)].filter((t): t is CST.Document => t.type === 'document');
  const root = docs[0]?.value;
  if (docs.length !== 1 || root?.type !== 'block-map' || topLevel(root, 'results') !== undefined) return undefined;
  const seq = topLevel(root, 'items');
  if (seq?.type !== 'block-seq') return undefined;
  const valued = seq.items.filter((it) => it.value !== undefined);
  const first = valued[0]?.start.find((t) => t.type === 'seq-item-ind');
  if (valued.length !== keep.length || first === undefined) return undefined;
  const indent = first.offset - lineStart(text, first.offset);
  let out = '';
  let at = 0;
  valued.forEach((it, i) => {
    const value = it.value as CST.Token;
    const start = lineStart(text, it.start[0]?.offset ?? value.offset);
    const end = value.offset + CST.stringify(value).length;
    out += text.slice(at, start);
    if (keep[i] === true) out += text.slice(start, end) + (text[end - 1] === '\n' ? '' : '\n');
    at = end;
  });
  for (const r of added) out += seqItemText(plainToYaml(r as PlainData), indent);
  const mapEnd = root.offset + CST.stringify(root).length;
  out += text.slice(at, mapEnd);
  if (results.length > 0) {
    const mapIndent = root.offset - lineStart(text, root.offset);
    const body = results.map((r) => seqItemText(plainToYaml(r as unknown as PlainData), mapIndent)).join('');
    out += `${out.endsWith('\n') ? '' : '\n'}${' '.repeat(mapIndent)}results:\n${body}`;
  }
  return out + text.slice(mapEnd);
}

/** The fallback writer: edits the parsed `Document` and stringifies it whole. */
function rewriteDocument(list: ParsedResourceList, added: readonly KrmObject[], results: readonly KrmResult[]): string {
  const doc = list.doc.clone();
  const root = doc.contents as YAMLMap;
  const found: unknown = root.get('items', true);
  const seq = isSeq(found) ? found : new YAMLSeq();
  if (seq !== found) root.set('items', seq);
  // Back to front so the indexes of the remaining items stay valid.
  for (let i = seq.items.length - 1; i >= 0; i--) {
    const node = seq.items[i];
    if (isMap(node) && node.get('apiVersion') === GENERATOR_API_VERSION && node.get('kind') === GENERATOR_KIND)
      seq.items.splice(i, 1);
  }
  // Through the renderer's YAML writer: it quotes strings a YAML 1.1 reader (kubectl) would take
  // for booleans or numbers, which `createNode` would leave plain.
  for (const r of added) seq.items.push(parseDocument(plainToYaml(r as PlainData)).contents);
  if (results.length > 0) {
    const previous = root.get('results', true);
    const existing = isSeq(previous) ? (previous.toJSON() as unknown[]) : [];
    root.set('results', doc.createNode([...existing, ...results]));
  }
  return doc.toString({ lineWidth: 0 });
}
