// Plain-text renderings of status, verify and audit answers (the adapters wrap them in their own markup).
import type { Prompt } from '../../flows/contract.ts';
import type { VerifyReport } from '../executor/contract.ts';
import type { AuditRow, SessionRow } from '../store/contract.ts';

const MARK = { pass: '✅', fail: '❌', warn: '⚠️', 'n/a': '➖' } as const;

export function renderStatus(row: SessionRow, prompt: Prompt | null): string {
  const waiting =
    prompt === null
      ? 'working'
      : prompt.kind === 'question'
        ? `waiting for an answer: ${prompt.text}`
        : `waiting for approval of ${prompt.request.step} (${prompt.preview.changes.join('; ')})`;
  return [
    `Setup of \`${row.clusterId}\` (${row.flow} flow): ${row.status}.`,
    `Started by ${row.requester} at ${new Date(row.createdAt).toISOString()}.`,
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
  return [`Backup center check of \`${report.clusterId}\` (read-only):`, ...lines, summary].join('\n');
}

export function renderAudit(clusterId: string, rows: AuditRow[]): string {
  if (rows.length === 0) return `No audit entries for \`${clusterId}\`.`;
  return [
    `Last ${rows.length} audit entries for \`${clusterId}\` (newest first):`,
    ...rows.map(
      (r) =>
        `${new Date(r.at).toISOString()} ${r.actor} ${r.action}${r.step ? ` ${r.step}` : ''}: ${r.outcome}${r.detail ? ` (${r.detail})` : ''}`,
    ),
  ].join('\n');
}
