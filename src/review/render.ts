/**
 * Text forms of a review: a per-file report for the terminal, and Markdown for a PR comment or
 * `$GITHUB_STEP_SUMMARY`. Pure. A value appears only when the review carries it (`showValues`);
 * everything else is key paths, types, lengths and fingerprints.
 */
import type { FileReview, KeyChange } from './semantic.js';

/** What the renderers need of a whole run (`DiffReport` satisfies it). */
export interface ReviewSet {
  from: string;
  to: string;
  mode: string;
  files: FileReview[];
}

const SIGN: Record<KeyChange['change'], string> = { added: '+', removed: '-', changed: '~', unknown: '?' };

function lengths(c: KeyChange): string {
  const { old: a, new: b } = c.length;
  const unit = (n: number) => (n === 1 ? 'byte' : 'bytes');
  if (a !== undefined && b !== undefined) return a === b ? `${a} ${unit(a)}` : `${a} → ${b} ${unit(b)}`;
  const n = a ?? b ?? 0;
  return `${n} ${unit(n)}`;
}

function types(c: KeyChange): string {
  const { old: a, new: b } = c.type;
  return a !== undefined && b !== undefined && a !== b ? `retyped ${a} → ${b}` : (b ?? a ?? '');
}

function storage(c: KeyChange): string | undefined {
  const { old: a, new: b } = c.encrypted;
  if (a === true && b === false) return 'now in CLEAR TEXT';
  if (a === false && b === true) return 'now encrypted';
  if (a === undefined && b === false) return 'in clear text';
  return undefined;
}

function pair(p: { old?: string; new?: string } | undefined, quote: (s: string) => string): string | undefined {
  if (p === undefined) return undefined;
  if (p.old !== undefined && p.new !== undefined)
    return p.old === p.new ? quote(p.new) : `${quote(p.old)} → ${quote(p.new)}`;
  const one = p.new ?? p.old;
  return one === undefined ? undefined : quote(one);
}

/** The values as shown: bytes that are not UTF-8 as `base64 "…"`, so they never pass for text. */
function shownValues(c: KeyChange, quote: (s: string) => string): { old?: string; new?: string } | undefined {
  if (c.value === undefined) return undefined;
  const out: { old?: string; new?: string } = {};
  for (const side of ['old', 'new'] as const) {
    const v = c.value[side];
    if (v !== undefined) out[side] = c.valueEncoding?.[side] === 'base64' ? `base64 ${quote(v)}` : quote(v);
  }
  return out;
}

/** The detail of one change: `str, 12 → 16 bytes, fp:3fa1c2 → fp:9bd2e0`. */
export function changeDetail(c: KeyChange, quote: (s: string) => string = (s) => JSON.stringify(s)): string {
  if (c.change === 'unknown') return `${types(c)}, data key rotated: compare with keys`;
  const parts = [types(c), lengths(c)];
  const where = storage(c);
  if (where !== undefined) parts.push(where);
  const value = pair(shownValues(c, quote), (s) => s);
  if (value !== undefined) parts.push(value);
  else {
    const fp = pair(c.fingerprint, (s) => s);
    if (fp !== undefined) parts.push(fp);
  }
  return parts.filter((p) => p !== '').join(', ');
}

function metadataLines(f: FileReview): string[] {
  const lines: string[] = [];
  for (const r of f.recipients.added) lines.push(`recipient added:   ${r}`);
  for (const r of f.recipients.removed) lines.push(`recipient removed: ${r}`);
  if (f.dataKey === 'rotated') lines.push('data key: rotated (every value re-encrypted)');
  if (f.rule !== undefined) lines.push(`rule: ${f.rule.old} → ${f.rule.new}`);
  if (f.lastmodified !== undefined)
    lines.push(`lastmodified: ${f.lastmodified.old} → ${f.lastmodified.new}${f.mac.changed ? ', mac changed' : ''}`);
  else if (f.mac.changed) lines.push('mac changed');
  return lines;
}

function fileTitle(f: FileReview): string {
  const from = f.previousFile === undefined ? '' : ` (from ${f.previousFile})`;
  return `${f.file}${from}: ${f.status}, ${f.mode}`;
}

function summary(f: FileReview): string {
  const c = f.counts;
  const parts = [`${c.added} added`, `${c.removed} removed`, `${c.changed} changed`];
  if (c.retyped > 0) parts.push(`${c.retyped} retyped`);
  if (c.unknown > 0) parts.push(`${c.unknown} unknown`);
  parts.push(`${c.unchanged} unchanged`);
  return parts.join(', ');
}

/** The terminal report: one block per file. */
export function renderHuman(set: ReviewSet): string {
  if (set.files.length === 0) return `no SOPS file changed between ${set.from} and ${set.to}`;
  const blocks = set.files.map((f) => {
    const lines = [fileTitle(f)];
    for (const a of f.alerts) lines.push(`  !! ${a}`);
    const width = Math.max(0, ...f.changes.map((c) => c.path.length));
    for (const c of f.changes)
      lines.push(`  ${SIGN[c.change]} ${c.path.padEnd(width)}  ${c.change}: ${changeDetail(c)}`);
    lines.push(`  ${summary(f)}`);
    for (const m of metadataLines(f)) lines.push(`  ${m}`);
    for (const n of f.notes) lines.push(`  note: ${n}`);
    return lines.join('\n');
  });
  return blocks.join('\n\n');
}

/** Markdown-safe inline code (a path may hold backticks or pipes). */
function code(s: string): string {
  const clean = s.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
  const fence = clean.includes('`') ? '``' : '`';
  return `${fence}${fence === '``' ? ' ' : ''}${clean}${fence === '``' ? ' ' : ''}${fence}`;
}

function markdownFile(f: FileReview): string {
  const lines = [
    `### ${code(f.file)} — ${f.status}${f.previousFile === undefined ? '' : ` from ${code(f.previousFile)}`} (${f.mode})`,
    '',
  ];
  for (const a of f.alerts) lines.push('> [!CAUTION]', `> ${a.replace(/\n/g, ' ')}`, '');
  if (f.changes.length > 0) {
    lines.push('| | key | change | detail |', '|---|---|---|---|');
    for (const c of f.changes)
      lines.push(`| ${SIGN[c.change]} | ${code(c.path)} | ${c.change} | ${changeDetail(c, code)} |`);
    lines.push('');
  }
  lines.push(`${summary(f)}.`);
  const meta = metadataLines(f);
  if (meta.length > 0) lines.push('', ...meta.map((m) => `- ${m.replace(/\s+/g, ' ')}`));
  for (const n of f.notes) lines.push('', `_${n}_`);
  return lines.join('\n');
}

/** Markdown for a PR comment or `$GITHUB_STEP_SUMMARY`. */
export function renderMarkdown(set: ReviewSet): string {
  const head = `## Secrets changes: \`${set.from.slice(0, 12)}\` → \`${set.to.slice(0, 12)}\``;
  if (set.files.length === 0) return `${head}\n\nNo SOPS file changed.\n`;
  const alerts = set.files.filter((f) => f.alerts.length > 0).length;
  const intro = `${set.files.length} file(s), compared ${set.mode === 'keyless' ? 'without keys (ciphertexts and metadata)' : 'with keys (values masked)'}${alerts > 0 ? `; **${alerts} file(s) need attention**` : ''}.`;
  return `${[head, '', intro, '', ...set.files.map(markdownFile)].join('\n')}\n`;
}
