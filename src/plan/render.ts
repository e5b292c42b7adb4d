/**
 * Showing a {@link Plan}: a terraform-like summary, then per file the expected diff of its
 * recipients and of its redacted value tree. Pure text; values are never shown, only key paths.
 */
import { createTwoFilesPatch } from 'diff';
import type { Plan, PlanFile, PlanValue } from './model.js';

/** The one-line description of a value to replace (`~ db.password  age 213d > 90d  owner team-db  → new value required`). */
export function valueLine(v: PlanValue): string {
  const how =
    v.generate !== undefined ? `→ generate ${v.generate.length} ${v.generate.alphabet}` : '→ new value required';
  return `~ ${v.path}  ${v.reason}${v.owner === undefined ? '' : `  owner ${v.owner}`}  ${how}`;
}

/**
 * Unified diff of the `sops` recipients and of the redacted values (`<redacted>` before,
 * `<new: …>` after) that applying `f` should produce.
 */
export function expectedDiff(
  f: Pick<PlanFile, 'file' | 'actions' | 'values'>,
  recipients: readonly string[],
  wanted: readonly string[],
  allPaths: readonly { path: string; encrypted: boolean }[],
): string {
  const rotating = new Set(f.values.map((v) => v.path));
  const newKey = f.actions.includes('rotate-data-key');
  // A new data key re-encrypts every encrypted value; a value left in clear keeps its bytes.
  const encrypted = new Set(allPaths.filter((p) => p.encrypted).map((p) => p.path));
  return redactedDiff(
    f.file,
    allPaths.map((p) => p.path),
    recipients,
    {
      recipients: f.actions.includes('rewrap') ? wanted : recipients,
      newKey,
      mark: (p) =>
        rotating.has(p) ? '<new value>' : newKey && encrypted.has(p) ? '<redacted, re-encrypted>' : '<redacted>',
    },
  );
}

/**
 * The redacted before/after view both the plan ({@link expectedDiff}) and apply (what it really
 * produced) render, so the two can be compared line for line.
 */
export function redactedDiff(
  file: string,
  paths: readonly string[],
  recipientsBefore: readonly string[],
  after: { recipients: readonly string[]; newKey: boolean; mark: (path: string) => string },
): string {
  const before = [
    'sops:',
    ...recipientsBefore.map((r) => `  recipient: ${r}`),
    '  data_key: current',
    ...paths.map((p) => `${p}: <redacted>`),
  ];
  const next = [
    'sops:',
    ...after.recipients.map((r) => `  recipient: ${r}`),
    `  data_key: ${after.newKey ? 'new' : 'current'}`,
    ...paths.map((p) => `${p}: ${after.mark(p)}`),
  ];
  return createTwoFilesPatch(
    `a/${file}`,
    `b/${file}`,
    `${before.join('\n')}\n`,
    `${next.join('\n')}\n`,
    undefined,
    undefined,
    { context: 3 },
  );
}

function summaryLines(plan: Plan): string[] {
  const s = plan.summary;
  if (s.files === 0 && plan.config === undefined)
    return ["No changes. Every file matches its environment's recipients and rotation policy."];
  const lines = [
    `Plan: ${s.rewrap} to rewrap, ${s.rotateDataKey} data key(s) to rotate, ${s.values} value(s) to replace in ${s.rotateValues} file(s).`,
  ];
  if (plan.config !== undefined)
    lines.push(`  ${plan.config.file}: ${plan.config.removeRecipients.length} offboarded recipient(s) to remove`);
  for (const [env, c] of Object.entries(s.byEnvironment))
    lines.push(`  ${env}: ${c.rewrap} rewrap, ${c.rotateDataKey} rotate-data-key, ${c.values} value(s)`);
  return lines;
}

function offboardingLines(plan: Plan): string[] {
  if (plan.offboarding === undefined) return [];
  if (plan.offboarding.length === 0) return ['', 'Offboarding: the recipient(s) could read nothing in these files.'];
  const lines = ['', 'Offboarding:'];
  for (const e of plan.offboarding) {
    lines.push(
      `  ${e.recipient} could read ${e.environment}/${e.file}${e.since === undefined ? '' : ` since ${e.since}`}${e.currentKeyExposed ? ' (holds the current data key)' : ''}`,
    );
    for (const k of e.keys) lines.push(`    - ${k}`);
  }
  return lines;
}

/** Who the config edit removes, one line each. */
function removalLines(plan: Plan): string[] {
  return (plan.config?.removeRecipients ?? []).map(
    (r) =>
      `- ${r.recipient} from environment "${r.environment}"${r.group === undefined ? '' : ` (key group ${r.group})`}`,
  );
}

/** The plan for a terminal. */
export function renderHuman(plan: Plan): string {
  const lines = summaryLines(plan);
  if (plan.config !== undefined)
    lines.push(
      '',
      `# ${plan.config.file}: remove offboarded recipients (first)`,
      ...removalLines(plan).map((l) => `  ${l}`),
      plan.config.expectedDiff.trimEnd(),
    );
  for (const f of plan.files) {
    lines.push('', `# ${f.file} (${f.environment}): ${f.actions.join(', ')}`, ...f.reasons.map((r) => `  ${r}`));
    lines.push(...f.values.map((v) => `  ${valueLine(v)}`));
    if (f.expectedDiff !== undefined) lines.push(f.expectedDiff.trimEnd());
  }
  lines.push(...offboardingLines(plan), ...plan.warnings.map((w) => `warning: ${w}`));
  return `${lines.join('\n')}\n`;
}

/** The plan as Markdown (for a pull request or an issue). */
export function renderMarkdown(plan: Plan): string {
  const lines = ['## sealant rotation plan', '', ...summaryLines(plan)];
  if (plan.config !== undefined)
    lines.push(
      '',
      `### \`${plan.config.file}\`: remove offboarded recipients (first)`,
      '',
      ...removalLines(plan),
      '',
      '```diff',
      plan.config.expectedDiff.trimEnd(),
      '```',
    );
  for (const f of plan.files) {
    lines.push(
      '',
      `### \`${f.file}\` (${f.environment})`,
      '',
      `Actions: ${f.actions.map((a) => `\`${a}\``).join(', ')}`,
      '',
    );
    lines.push(...f.reasons.map((r) => `- ${r}`), ...f.values.map((v) => `- \`${valueLine(v)}\``));
    if (f.expectedDiff !== undefined) lines.push('', '```diff', f.expectedDiff.trimEnd(), '```');
  }
  lines.push(...offboardingLines(plan), ...plan.warnings.map((w) => `> warning: ${w}`));
  return `${lines.join('\n')}\n`;
}
