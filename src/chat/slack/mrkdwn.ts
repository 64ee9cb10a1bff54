// Cutting Slack text to Block Kit's limits without breaking it (escaping is in inline.ts).

/** Cuts text to at most `max` characters, ending with "…", never inside a surrogate pair or an entity. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  cut = cut.replace(/&[a-z]*$/, '');
  return `${cut}…`;
}

/** Splits text into chunks of at most `max` characters, at line ends where possible. */
export function chunk(text: string, max: number): string[] {
  const chunks: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    const candidate = current === '' ? line : `${current}\n${line}`;
    if (candidate.length <= max) {
      current = candidate;
      continue;
    }
    if (current !== '') chunks.push(current);
    current = line;
    while (current.length > max) {
      let at = max;
      if (/[\uD800-\uDBFF]/.test(current.charAt(at - 1))) at -= 1;
      chunks.push(current.slice(0, at));
      current = current.slice(at);
    }
  }
  if (current !== '' || chunks.length === 0) chunks.push(current);
  return chunks;
}
