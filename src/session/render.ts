// Plain-text renderings of status, verify and audit answers (the adapters wrap them in their own markup).
import type { Prompt } from '../../flows/contract.ts';
import type { VerifyReport } from '../executor/contract.ts';
import type { AuditRow, SessionRow } from '../store/contract.ts';
import { code, person, time } from '../../flows/domain/inline.js';

const MARK = { pass: '✅', fail: '❌', warn: '⚠️', 'n/a': '➖' } as const;

export function renderStatus(row: SessionRow, prompt: Prompt | null): string {
  const waiting =
    prompt === null
      ? 'working'
      : prompt.kind === 'question'
        ? `waiting for an answer: ${prompt.text}`
        : `waiting for approval of ${code(prompt.request.step)} (${prompt.preview.changes.join('; ')})`;
  return [
    `Setup of ${code(row.clusterId)} (${row.flow} flow): ${row.status}.`,
    `Started by ${person(row.requester)} at ${time(new Date(row.createdAt))}.`,
    row.status === 'active' ? `Now ${waiting}.` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

export function renderVerify(report: VerifyReport): string {
  const lines = report.checks.map((check) => {
    const fix = check.fix && (check.status === 'fail' || check.status === 'warn') ? `\n    ↳ ${check.fix}` : '';
    return `${MARK[check.status]} ${check.requirement}: ${check.detail}${fix}`;
  });
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  const summary = failed === 0 ? 'All backup-center requirements are met.' : `${failed} requirement(s) not met.`;
  return [`Backup center check of ${code(report.clusterId)} (read-only):`, ...lines, summary].join('\n');
}

export function renderAudit(clusterId: string, rows: AuditRow[]): string {
  if (rows.length === 0) return `No audit entries for ${code(clusterId)}.`;
  return [
    `Last ${rows.length} audit entries for ${code(clusterId)} (newest first):`,
    ...rows.map(
      (r) =>
        `${time(new Date(r.at))} ${person(r.actor)} ${r.action}${r.step ? ` ${code(r.step)}` : ''}: ${r.outcome}${r.detail ? ` (${detailOf(r)})` : ''}`,
    ),
  ].join('\n');
}

/** An answer's value and a deny reason are typed by people (shown as code); every other detail is the bot's own marked text. */
function detailOf(row: AuditRow): string {
  const typed = row.action === 'answer' || (row.action === 'approval.deny' && row.outcome !== 'refused');
  return typed ? code(row.detail ?? '') : (row.detail ?? '');
}
