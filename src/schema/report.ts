/**
 * The results of `sealant validate` and their three renderings: lines for people, GitHub
 * Actions workflow commands, and (through the command's `--json`) the result objects as-is.
 * Nothing here ever holds a value: messages are built from keywords, schema data and key names.
 */

/** One located problem (part of the `--json` API). */
export interface ValidationResult {
  /** The file, as the user named it (relative to the working directory). */
  file: string;
  /** 1-based; the line of the key (or of its parent when the key is missing). */
  line: number;
  col: number;
  /** Key path as users write it (`db.password`, `hosts[0]`); `""` for the document itself. */
  path: string;
  /** The JSON Schema keyword, or `sops`, `recipients`, `encryption`, `decrypt`, `parse`, `parity`, `schema`. */
  keyword: string;
  /**
   * `warning`: nothing is wrong with the data, but something no key vouches for (a value the MAC
   * does not cover); `note`: a rule that could not be checked (without keys, or no schema).
   */
  severity: 'error' | 'warning' | 'note';
  message: string;
}

/** Sorts results by file, line, column (stable for equal positions). */
export function sortResults(results: ValidationResult[]): ValidationResult[] {
  return results.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
}

/** `file:line:col  path  message` (notes say `note:`, warnings `warning:`). */
export function humanLine(r: ValidationResult): string {
  const message = r.severity === 'error' ? r.message : `${r.severity}: ${r.message}`;
  return `${r.file}:${r.line}:${r.col}  ${r.path === '' ? '(root)' : r.path}  ${message}`;
}

// https://docs.github.com/actions/using-workflows/workflow-commands-for-github-actions: data
// escapes %, CR, LF; property values also ':' and ','.
function escapeData(s: string): string {
  return s.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}

function escapeProperty(s: string): string {
  return escapeData(s).replaceAll(':', '%3A').replaceAll(',', '%2C');
}

/** `::error file=F,line=L,col=C::path: message` (`::warning`, `::notice` for notes). */
export function githubLine(r: ValidationResult): string {
  const level = r.severity === 'note' ? 'notice' : r.severity;
  const subject = r.path === '' ? '' : `${r.path}: `;
  return `::${level} file=${escapeProperty(r.file)},line=${r.line},col=${r.col}::${escapeData(subject + r.message)}`;
}

/** "2 errors, 1 note in 3 files" ("2 errors, 1 warning, 1 note…" when there are warnings). */
export function summaryLine(results: readonly ValidationResult[], files: number): string {
  const count = (s: ValidationResult['severity']) => results.filter((r) => r.severity === s).length;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  const warnings = count('warning');
  return `${plural(count('error'), 'error')}, ${warnings > 0 ? `${plural(warnings, 'warning')}, ` : ''}${plural(count('note'), 'note')} in ${plural(files, 'file')}`;
}
