// The record of an answer in its question's message, the same on every platform.
/**
 * What an answer chose, in a platform's markup: `bucket <code>my-backups</code> (existing)` when the value
 * is a resource name, else the choice's label.
 */
export function chosen(
  answer: { value: string; label: string; subject?: string },
  code: (value: string) => string,
  strong: (label: string) => string,
  plain: (text: string) => string,
): string {
  if (!answer.subject) return strong(answer.label);
  const note = answer.label === answer.value ? '' : answer.label.startsWith(answer.value) ? answer.label.slice(answer.value.length) : ` (${answer.label})`;
  return `${plain(answer.subject)} ${code(answer.value)}${plain(note)}`;
}
