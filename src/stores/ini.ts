/**
 * The INI store, compatible with sops' `stores/ini/store.go`, which reads and writes through
 * `gopkg.in/ini.v1` with its default options. The parts of go-ini that decide keys, values and
 * comments are reproduced here, because they decide AADs and MAC input:
 * - keys and values are trimmed around the delimiter (`=` or `:`); a value may be quoted with
 *   `"""…"""` (may span lines) or backticks, and surrounding `"…"`/`'…'` are removed;
 * - `#` or `;` anywhere in an unquoted value starts an inline comment; a trailing `\` joins the
 *   next line;
 * - comment lines attach to the next section header or key, and SOPS places a key's comment
 *   *after* the key in the tree (a section's comment first); text is trimmed of its leading
 *   `;`/`#` and spaces.
 * Sections are top-level keys; keys before any section belong to go-ini's `DEFAULT` section.
 * Metadata is the `[sops]` section with flattened keys (`flatten.ts`), newlines written `\n`.
 *
 * Byte stability: each section header and key line is remembered with the comment and blank
 * lines before it; unchanged ones are copied, a changed value is spliced into its line, new
 * keys and sections are written the way go-ini writes them (keys aligned, ` = `).
 */
import { ParseError, UnsupportedDocumentError } from '../errors.js';
import type { CommentNode, MapEntry, MapNode, ScalarValue } from '../format/tree.js';
import { cloneNode, str } from '../format/tree.js';
import { sameNode, sameScalar, scalarAsText, singleDocument } from './common.js';
import { flattenMetadata, unflattenMetadata } from './flatten.js';
import type { FlatEntry } from './flatten.js';
import type { Store, StoreDocument } from './store.js';

/** go-ini's name for the section of keys that precede every header. */
export const DEFAULT_SECTION = 'DEFAULT';
/** The metadata section. */
export const SOPS_SECTION = 'sops';

// Go's unicode.IsSpace (JavaScript's \s also matches U+FEFF and misses U+0085).
const GO_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const LEADING_SPACE = new RegExp(`^[${GO_SPACE}]+`);
const TRAILING_SPACE = new RegExp(`[${GO_SPACE}]+$`);

function goTrimLeft(s: string): string {
  return s.replace(LEADING_SPACE, '');
}
function goTrimRight(s: string): string {
  return s.replace(TRAILING_SPACE, '');
}
function goTrimSpace(s: string): string {
  return goTrimRight(goTrimLeft(s));
}

/** sops' `stripCommentChar`: drops the leading run of `;`+spaces or `#`+spaces. */
function stripCommentChar(comment: string): string {
  if (comment.startsWith(';')) return comment.replace(/^[; ]+/, '');
  if (comment.startsWith('#')) return comment.replace(/^[# ]+/, '');
  return comment;
}

/** The tree's comment for go-ini's accumulated comment buffer (sops skips empty ones). */
function commentFrom(buffer: string): string | undefined {
  const trimmed = goTrimSpace(buffer);
  return trimmed === '' ? undefined : stripCommentChar(trimmed);
}

/** Text before a header or key line: blank lines, then (from the first comment line on) comments. */
interface Lead {
  /** All of it. */
  text: string;
  /** The part before the first comment line (kept when the comment is re-rendered). */
  blank: string;
}

interface KeySource {
  key: string;
  value: string;
  comment: string | undefined;
  lead: Lead;
  /** The line up to where the value starts (key, padding, delimiter, spaces). */
  head: string;
  /** The value as written (quotes, continuation lines). */
  valueRaw: string;
  /** Between the value and its inline comment. */
  mid: string;
  /** The inline comment (`; note`), or ''. */
  inline: string;
  /** The rest: trailing spaces and the line break. */
  eol: string;
}

interface Header {
  lead: Lead;
  /** The header line with its line break. */
  text: string;
  /** Where an inline comment (`[name] ; note`) starts in `text`, or -1. */
  inlineAt: number;
}

interface SectionSource {
  name: string;
  comment: string | undefined;
  /** Absent for the implicit DEFAULT section. */
  header: Header | undefined;
  keys: KeySource[];
  /** The section's span: from its header's lead to the end of its last line. */
  start: number;
  end: number;
}

interface IniSource {
  text: string;
  sections: SectionSource[];
  /** Text after the last key or header (blank lines, trailing comments). */
  trailer: string;
  /** The metadata as loaded, to tell whether it changed. */
  metadata: MapNode | undefined;
}

const EMPTY_SOURCE: IniSource = { text: '', sections: [], trailer: '', metadata: undefined };

/** Value text and where it ends, from go-ini's `readValue` and friends. */
interface ReadValue {
  value: string;
  /** Absolute offsets: value start/end, inline comment start/end (equal when none), end of consumed text. */
  valueStart: number;
  valueEnd: number;
  inlineStart: number;
  inlineEnd: number;
  end: number;
  /** Inline comment text for go-ini's comment buffer ('' if none). */
  comment: string;
}

class IniParser {
  private pos = 0;
  private lineNo = 0;
  private readonly sections: SectionSource[] = [];
  private section: SectionSource;
  private commentBuffer = '';
  private firstCommentAt = -1;
  private unitStart = 0;
  private autoIncrement = 1;

  constructor(
    private readonly text: string,
    private readonly file: string | undefined,
  ) {
    this.section = { name: DEFAULT_SECTION, comment: undefined, header: undefined, keys: [], start: 0, end: 0 };
    this.sections.push(this.section);
    if (text.startsWith('\ufeff')) this.pos = 1; // go-ini skips a UTF-8 BOM
  }

  private fail(message: string, line = this.lineNo): ParseError {
    return new ParseError(`invalid INI: ${message}`, { file: this.file, line });
  }

  /** The next line including its `\n` ('' at the end). */
  private readLine(): { start: number; line: string } {
    const start = this.pos;
    const nl = this.text.indexOf('\n', start);
    this.pos = nl === -1 ? this.text.length : nl + 1;
    this.lineNo += 1;
    return { start, line: this.text.slice(start, this.pos) };
  }

  private takeLead(lineStart: number): Lead {
    const text = this.text.slice(this.unitStart, lineStart);
    const blank = this.firstCommentAt === -1 ? text : this.text.slice(this.unitStart, this.firstCommentAt);
    this.commentBuffer = '';
    this.firstCommentAt = -1;
    return { text, blank };
  }

  parse(): IniSource {
    while (this.pos < this.text.length) {
      const { start, line } = this.readLine();
      const trimmed = goTrimLeft(line);
      if (trimmed === '') continue;
      if (trimmed.startsWith('#') || trimmed.startsWith(';')) {
        if (this.firstCommentAt === -1) this.firstCommentAt = start;
        this.commentBuffer += trimmed;
      } else if (trimmed.startsWith('[')) {
        this.parseHeader(start, line, trimmed);
      } else {
        this.parseKey(start, line, trimmed);
      }
    }
    const trailer = this.text.slice(this.unitStart);
    this.section.end = this.unitStart;
    const sections = this.sections.filter((s) => s.header !== undefined || s.keys.length > 0);
    const sops = sections.find((s) => s.name === SOPS_SECTION);
    return { text: this.text, sections, trailer, metadata: sops === undefined ? undefined : this.metadataOf(sops) };
  }

  private metadataOf(section: SectionSource): MapNode {
    // sops reads the [sops] keys into a map and un-escapes `\n` (`DecodeNewLines`).
    const flat: FlatEntry[] = section.keys.map((k) => ({ key: k.key, value: k.value.replaceAll('\\n', '\n') }));
    return unflattenMetadata(flat);
  }

  private parseHeader(start: number, line: string, trimmed: string): void {
    const close = trimmed.lastIndexOf(']');
    if (close === -1) throw this.fail('unclosed section header');
    const name = trimmed.slice(1, close);
    if (name === '') throw this.fail('empty section name');
    const rest = trimmed.slice(close + 1);
    const inline = rest.search(/[#;]/);
    if (inline !== -1) this.commentBuffer += rest.slice(inline);
    const comment = commentFrom(this.commentBuffer);
    const sectionStart = this.unitStart;
    this.section.end = sectionStart;
    const inlineAt = inline === -1 ? -1 : line.length - trimmed.length + close + 1 + inline;
    const header: Header = { lead: this.takeLead(start), text: line, inlineAt };
    this.unitStart = this.pos;
    this.autoIncrement = 1;
    const implicit = this.sections[0];
    if (
      name === DEFAULT_SECTION &&
      implicit !== undefined &&
      implicit.header === undefined &&
      implicit.keys.length === 0
    ) {
      // go-ini's NewSection returns the existing DEFAULT section.
      Object.assign(implicit, { comment, header, start: sectionStart });
      this.section = implicit;
      return;
    }
    if (this.sections.some((s) => s.name === name && (s.header !== undefined || s.keys.length > 0))) {
      throw new UnsupportedDocumentError('duplicate INI section', { file: this.file, line: this.lineNo, path: [name] });
    }
    this.section = { name, comment, header, keys: [], start: sectionStart, end: sectionStart };
    this.sections.push(this.section);
  }

  private parseKey(start: number, line: string, trimmed: string): void {
    const lineNo = this.lineNo;
    const { name, valueOffset } = this.readKeyName(trimmed);
    const key = name === '-' ? `#${this.autoIncrement++}` : name; // go-ini auto-increment keys
    const read = this.readValue(start + (line.length - trimmed.length) + valueOffset);
    this.commentBuffer += read.comment;
    const comment = commentFrom(this.commentBuffer);
    if (this.section.keys.some((k) => k.key === key)) {
      throw new UnsupportedDocumentError('duplicate key in an INI section', {
        file: this.file,
        line: lineNo,
        path: [this.section.name, key],
      });
    }
    const lead = this.takeLead(start);
    const t = this.text;
    this.section.keys.push({
      key,
      value: read.value,
      comment,
      lead,
      head: t.slice(start, read.valueStart),
      valueRaw: t.slice(read.valueStart, read.valueEnd),
      mid: t.slice(read.valueEnd, read.inlineStart),
      inline: t.slice(read.inlineStart, read.inlineEnd),
      eol: t.slice(read.inlineEnd, read.end),
    });
    this.unitStart = read.end;
  }

  /** go-ini `readKeyName` with delimiters `=:`: optional quotes, then trimmed. */
  private readKeyName(line: string): { name: string; valueOffset: number } {
    let quote = '';
    if (line.startsWith('"""') && line.length > 6) quote = '"""';
    else if (line.startsWith('"')) quote = '"';
    else if (line.startsWith('`')) quote = '`';
    if (quote !== '') {
      const close = line.indexOf(quote, quote.length);
      if (close === -1) throw this.fail('missing closing key quote');
      const delimiter = line.slice(close + quote.length).search(/[=:]/);
      if (delimiter === -1) throw this.fail('key-value delimiter not found');
      return { name: goTrimSpace(line.slice(quote.length, close)), valueOffset: close + quote.length + delimiter + 1 };
    }
    const delimiter = line.search(/[=:]/);
    if (delimiter === -1) throw this.fail('key-value delimiter not found');
    if (delimiter === 0) throw this.fail('empty key name');
    return { name: goTrimSpace(line.slice(0, delimiter)), valueOffset: delimiter + 1 };
  }

  /** go-ini `readValue`; `at` is where the text after the delimiter starts. */
  private readValue(at: number): ReadValue {
    const lineEnd = this.pos;
    const rest = this.text.slice(at, lineEnd);
    const line = goTrimLeft(rest);
    const valueStart = at + (rest.length - line.length);
    if (line === '') {
      // Keep the spaces after the delimiter in `head`, so a new value lands where `key = ` expects it.
      const contentEnd = at + rest.replace(/\r?\n$/, '').length;
      return {
        value: '',
        valueStart: contentEnd,
        valueEnd: contentEnd,
        inlineStart: contentEnd,
        inlineEnd: contentEnd,
        end: lineEnd,
        comment: '',
      };
    }
    const quote = line.length > 3 && line.startsWith('"""') ? '"""' : line.startsWith('`') ? '`' : '';
    if (quote !== '') return this.readQuoted(line, valueStart, quote);
    const trimmed = goTrimSpace(line);
    if (trimmed.endsWith('\\'))
      return this.readContinuation(trimmed.slice(0, -1), valueStart, valueStart + trimmed.length);
    const hash = trimmed.search(/[#;]/);
    const bare = hash === -1 ? trimmed : goTrimRight(trimmed.slice(0, hash));
    const valueEnd = valueStart + bare.length;
    const inlineStart = hash === -1 ? valueEnd : valueStart + hash;
    const inlineEnd = valueStart + trimmed.length;
    const value = hasSurroundedQuote(bare, "'") || hasSurroundedQuote(bare, '"') ? bare.slice(1, -1) : bare;
    return {
      value,
      valueStart,
      valueEnd,
      inlineStart,
      inlineEnd,
      end: lineEnd,
      comment: hash === -1 ? '' : trimmed.slice(hash),
    };
  }

  private readQuoted(line: string, valueStart: number, quote: string): ReadValue {
    const close = line.lastIndexOf(quote);
    if (close >= quote.length) {
      // Single line: text after the closing quote is ignored by go-ini (no comment captured).
      const valueEnd = valueStart + close + quote.length;
      const contentEnd = valueStart + goTrimRight(line).length;
      return {
        value: line.slice(quote.length, close),
        valueStart,
        valueEnd,
        inlineStart: contentEnd,
        inlineEnd: contentEnd,
        end: this.pos,
        comment: '',
      };
    }
    let value = line.slice(quote.length);
    const startLine = this.lineNo;
    for (;;) {
      if (this.pos >= this.text.length) throw this.fail('unterminated quoted value', startLine);
      const { start, line: next } = this.readLine();
      const at = next.lastIndexOf(quote);
      if (at === -1) {
        value += next;
        continue;
      }
      value += next.slice(0, at);
      const after = next.slice(at);
      const hash = after.search(/[#;]/);
      const valueEnd = start + at + quote.length;
      const contentEnd = start + goTrimRight(next).length;
      const inlineStart = hash === -1 ? contentEnd : start + at + hash;
      return {
        value,
        valueStart,
        valueEnd,
        inlineStart,
        inlineEnd: contentEnd,
        end: this.pos,
        comment: hash === -1 ? '' : goTrimSpace(after.slice(hash)),
      };
    }
  }

  /** go-ini `readContinuationLines`: a trailing `\` joins the next line (trimmed); a blank line ends it. */
  private readContinuation(first: string, valueStart: number, firstEnd: number): ReadValue {
    let value = first;
    let valueEnd = firstEnd;
    while (this.pos < this.text.length) {
      const { start, line } = this.readLine();
      const next = goTrimSpace(line);
      if (next === '') break; // go-ini consumes this blank line too
      value += next;
      valueEnd = start + goTrimRight(line).length;
      if (!value.endsWith('\\')) break;
      value = value.slice(0, -1);
    }
    return { value, valueStart, valueEnd, inlineStart: valueEnd, inlineEnd: valueEnd, end: this.pos, comment: '' };
  }
}

/** go-ini `hasSurroundedQuote`. */
function hasSurroundedQuote(s: string, quote: string): boolean {
  return s.length >= 2 && s.startsWith(quote) && s.endsWith(quote) && s.indexOf(quote, 1) === s.length - 1;
}

/** The tree of one section: comment first, each key followed by its comment (as sops builds it). */
function sectionTree(section: SectionSource): MapNode {
  const items: (MapEntry | CommentNode)[] = [];
  if (section.comment !== undefined) items.push({ kind: 'comment', text: section.comment });
  for (const k of section.keys) {
    items.push({ kind: 'entry', key: k.key, value: str(k.value) });
    if (k.comment !== undefined) items.push({ kind: 'comment', text: k.comment });
  }
  return { kind: 'map', items };
}

function treeOf(source: IniSource): MapNode {
  const items: MapEntry[] = source.sections
    .filter((s) => s.name !== SOPS_SECTION)
    .map((s) => ({ kind: 'entry', key: s.name, value: sectionTree(s) }));
  return { kind: 'map', items };
}

// --- writing -------------------------------------------------------------------------------

/** A value as go-ini writes it: `"""` around newlines/backticks, backticks around `#`/`;`, quotes around edge spaces. */
function encodeValue(value: string): string {
  if (/[\n`]/.test(value)) return `"""${value}"""`;
  if (/[#;]/.test(value)) return `\`${value}\``;
  if (goTrimSpace(value) !== value) return `"${value}"`;
  return value;
}

/** A key as go-ini writes it. */
function encodeKey(key: string): string {
  if (/^#\d+$/.test(key)) return '-'; // an auto-increment key reads back as `#<n>`
  if (/["=:]/.test(key)) return `\`${key}\``;
  if (key.includes('`')) return `"""${key}"""`;
  return key;
}

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** go-ini's comment lines: `; text`, or the comment's own `#`/`;` with one space. */
function renderComment(text: string, trimPlain: boolean): string {
  return text
    .split('\n')
    .map((line) => {
      if (line === '') return ';\n';
      if (line.startsWith('#') || line.startsWith(';')) return `${line[0] ?? ''} ${goTrimSpace(line.slice(1))}\n`;
      return `; ${trimPlain ? goTrimSpace(line) : line}\n`;
    })
    .join('');
}

/** A section's keys with the comment each one gets written before it (sops: the last comment after the key). */
interface KeyItem {
  key: string;
  value: ScalarValue;
  comment: string | undefined;
}

function splitSection(name: string, section: MapNode): { comment: string | undefined; keys: KeyItem[] } {
  let comment: string | undefined;
  const keys: KeyItem[] = [];
  section.items.forEach((item, i) => {
    if (item.kind === 'comment') {
      const last = keys[keys.length - 1];
      if (i === 0) comment = item.text;
      else if (last !== undefined) last.comment = item.text;
      return;
    }
    const path = [name, item.key];
    if (item.value.kind !== 'scalar')
      throw new UnsupportedDocumentError('INI sections hold only key = value pairs; this value is nested', { path });
    if (item.key === '' || /[\r\n]/.test(item.key))
      throw new UnsupportedDocumentError('this key cannot be written to an INI file', {
        path,
        hint: 'INI keys must be non-empty and on one line',
      });
    keys.push({ key: item.key, value: item.value.value, comment: undefined });
  });
  return { comment, keys };
}

function alignWidth(keys: readonly { key: string }[]): number {
  return Math.max(0, ...keys.map((k) => byteLength(encodeKey(k.key))));
}

function renderKeyLine(key: string, value: string, width: number): string {
  const name = encodeKey(key);
  return `${name}${' '.repeat(Math.max(0, width - byteLength(name)))} = ${encodeValue(value)}\n`;
}

/**
 * Whether a changed comment can stay inline (`key = value ; comment`): the source comment was
 * only inline, the new one is one line, and the value is not backtick/`"""`-quoted (go-ini
 * ignores what follows those). go-ini reads it back as the key's comment either way, so an
 * encrypted comment keeps its place and decrypts back to the original line.
 */
function staysInline(comment: string | undefined, src: KeySource, value: string): boolean {
  return (
    comment !== undefined &&
    comment !== '' &&
    !comment.includes('\n') &&
    src.inline !== '' &&
    src.lead.text === src.lead.blank &&
    !value.startsWith('`') &&
    !value.startsWith('"""')
  );
}

function renderKnownKey(item: KeyItem, src: KeySource): string {
  const valueSame = sameScalar(item.value, { type: 'str', value: src.value });
  const value = valueSame ? src.valueRaw : encodeValue(scalarAsText(item.value));
  if (item.comment === src.comment) return src.lead.text + src.head + value + src.mid + src.inline + src.eol;
  if (staysInline(item.comment, src, value))
    return src.lead.blank + src.head + value + src.mid + `${src.inline[0] ?? ';'} ${item.comment ?? ''}` + src.eol;
  // Otherwise the comment goes on its own line(s) before the key, as go-ini writes it.
  return (
    src.lead.blank + (item.comment === undefined ? '' : renderComment(item.comment, true)) + src.head + value + src.eol
  );
}

/**
 * A section header from the source. A changed comment always goes on its own lines: go-ini
 * finds the header's closing `]` with LastIndex, so an inline `; ENC[…]` would end up in the name.
 */
function renderKnownHeader(
  name: string,
  comment: string | undefined,
  original: string | undefined,
  header: Header,
): string {
  if (comment === original) return header.lead.text + header.text;
  const lineBreak = /\r?\n$/.exec(header.text)?.[0] ?? '\n';
  const text = header.inlineAt === -1 ? header.text : `[${name}]${lineBreak}`;
  return header.lead.blank + (comment === undefined ? '' : renderComment(comment, false)) + text;
}

/** Output text with go-ini's section spacing: a blank line before every section but the first. */
class IniWriter {
  out = '';

  /** Appends text that starts a new line. */
  push(text: string): void {
    if (text === '') return;
    if (this.out !== '' && !this.out.endsWith('\n')) this.out += '\n';
    this.out += text;
  }

  /** The blank line go-ini puts between sections. */
  separate(): void {
    if (this.out !== '' && !this.out.endsWith('\n\n')) this.push('\n');
  }
}

interface DataSection {
  name: string;
  tree: MapNode;
}

class IniDocument implements StoreDocument {
  readonly format = 'ini' as const;
  documents: MapNode[];
  metadata: MapNode | undefined;
  readonly #source: IniSource;

  constructor(source: IniSource, documents: MapNode[], metadata: MapNode | undefined) {
    this.#source = source;
    this.documents = documents;
    this.metadata = metadata;
  }

  serialize(): string {
    const sections = this.#sections(singleDocument(this.documents, 'INI'));
    const writer = new IniWriter();
    for (const slot of this.#order(sections)) {
      if (slot === 'sops') this.#writeMetadata(writer);
      else this.#writeSection(writer, slot.name, slot.tree, slot === sections[0]);
    }
    writer.push(this.#source.trailer);
    return writer.out;
  }

  /** The data sections (top-level comments are dropped, as sops does). */
  #sections(doc: MapNode): DataSection[] {
    const out: DataSection[] = [];
    for (const item of doc.items) {
      if (item.kind === 'comment') continue;
      const path = [item.key];
      if (item.value.kind !== 'map')
        throw new UnsupportedDocumentError('top-level INI values must be sections (mappings)', { path });
      if (item.key === SOPS_SECTION)
        throw new UnsupportedDocumentError('the section name "sops" is reserved for SOPS metadata', { path });
      if (item.key === '' || /[\r\n]/.test(item.key))
        throw new UnsupportedDocumentError('this section name cannot be written to an INI file', { path });
      out.push({ name: item.key, tree: item.value });
    }
    // go-ini's DEFAULT section always comes first (and is written without a header).
    const defaults = out.findIndex((s) => s.name === DEFAULT_SECTION);
    if (defaults > 0) out.unshift(...out.splice(defaults, 1));
    return out;
  }

  /** Data sections in order, with the metadata section where the source had it (else last). */
  #order(sections: DataSection[]): (DataSection | 'sops')[] {
    const slots: (DataSection | 'sops')[] = [...sections];
    if (this.metadata === undefined) return slots;
    const src = this.#source.sections;
    const at = src.findIndex((s) => s.name === SOPS_SECTION);
    const wasLast = at === -1 || at === src.length - 1;
    slots.splice(wasLast ? sections.length : Math.min(at, sections.length), 0, 'sops');
    return slots;
  }

  #writeSection(writer: IniWriter, name: string, tree: MapNode, first: boolean): void {
    const { comment, keys } = splitSection(name, tree);
    const src = this.#source.sections.find((s) => s.name === name);
    const headerless = first && name === DEFAULT_SECTION; // go-ini writes DEFAULT first, without a header
    if (src?.header !== undefined) {
      writer.push(renderKnownHeader(name, comment, src.comment, src.header));
    } else {
      if (src === undefined || !headerless) writer.separate();
      writer.push((comment === undefined ? '' : renderComment(comment, false)) + (headerless ? '' : `[${name}]\n`));
    }
    const width = alignWidth(keys);
    const used = new Set<KeySource>();
    for (const item of keys) {
      const known = src?.keys.find((k) => !used.has(k) && k.key === item.key);
      if (known !== undefined) {
        used.add(known);
        writer.push(renderKnownKey(item, known));
      } else {
        writer.push(
          (item.comment === undefined ? '' : renderComment(item.comment, true)) +
            renderKeyLine(item.key, scalarAsText(item.value), width),
        );
      }
    }
  }

  #writeMetadata(writer: IniWriter): void {
    const metadata = this.metadata;
    if (metadata === undefined) return;
    const src = this.#source.sections.find((s) => s.name === SOPS_SECTION);
    if (src !== undefined && this.#source.metadata !== undefined && sameNode(metadata, this.#source.metadata)) {
      writer.push(this.#source.text.slice(src.start, src.end));
      return;
    }
    // sops' EncodeNewLines: newlines in values are written as the two characters `\n`.
    const flat = flattenMetadata(metadata).map((f) => ({ key: f.key, value: f.value.replaceAll('\n', '\\n') }));
    const width = alignWidth(flat);
    if (src?.header !== undefined) writer.push(src.header.lead.blank);
    else writer.separate();
    writer.push(`[${SOPS_SECTION}]\n${flat.map((f) => renderKeyLine(f.key, f.value, width)).join('')}`);
  }
}

/**
 * The INI store (`.ini`). Top-level keys are sections whose values are maps of strings;
 * comments are kept as comment items.
 * @see Store
 */
export const iniStore: Store = {
  format: 'ini',
  /**
   * @throws ParseError (with line) for an unclosed section header, an empty section name, a line
   * that is neither a comment, a header nor `key = value`, or an unterminated `"""` value.
   * @throws UnsupportedDocumentError for a repeated section or a repeated key in a section.
   * @throws MetadataError when the `[sops]` keys do not unflatten into a tree.
   */
  load(text: string, file?: string): StoreDocument {
    const source = new IniParser(text, file).parse();
    const metadata = source.metadata === undefined ? undefined : cloneNode(source.metadata);
    return new IniDocument(source, [treeOf(source)], metadata);
  },
  /** go-ini's layout: `[section]`, aligned `key = value`, a blank line between sections, `[sops]` last. */
  create(documents: MapNode[], metadata?: MapNode): StoreDocument {
    return new IniDocument(EMPTY_SOURCE, documents, metadata);
  },
};
