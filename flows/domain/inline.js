// The inline marks of every text the bot writes, the one convention of the chat model: identifiers are
// code spans, people and times are tokens. Every adapter renders the spans with its own escaping, so no
// adapter guesses which characters are markup. Links are Slack's <url|label> or a bare https URL. Plain JavaScript (typed by inline.d.ts), so the sandbox
// chat page runs this same parser in the browser.
//
// Code spans follow CommonMark's rule (spec.commonmark.org/0.31.2/#code-spans): a run of n backticks
// opens, the next run of exactly n closes, and one space is stripped from each end when both ends have
// one. code() picks a run longer than any inside the value, so every value survives unchanged. A span of
// three or more backticks whose content starts with a line break is a preformatted block (pre()).

/** `value` as a code span that parses back to exactly `value`. */
export function code(value) {
  const text = String(value);
  if (text === '') return '` `';
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') || (text.startsWith(' ') && text.endsWith(' ') && text.trim() !== '') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** Lines shown as a preformatted block (a table, a listing): a fence longer than any backtick run inside. */
export function pre(lines) {
  const text = String(lines);
  let longest = 2;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  const fence = '`'.repeat(longest + 1);
  return `${fence}\n${text}\n${fence}`;
}

/** A person, by platform-qualified id (`slack:U012AB`): each platform shows their name. */
export function person(id) {
  const text = String(id);
  // Only platform-qualified ids are people; the bot's own entries ("bot") stay words.
  return /^[a-z]+:/.test(text) ? `<@${text.replace(/[>\s]/g, '')}>` : text;
}

/** A moment, shown in the reader's local time. */
export function time(at) {
  const iso = typeof at === 'string' ? at : at.toISOString();
  return `<!time:${iso.replace(/[>\s]/g, '')}>`;
}

// People, times and links (Slack's <url|label> form, or a bare https URL; no trailing punctuation).
const TOKEN = /<@([a-z]+:[^>\s]+)>|<!time:([^>\s]+)>|<(https?:\/\/[^|>\s]+)\|([^>\n]+)>|(https?:\/\/[^\s<>()`]*[^\s<>()`.,;:!?])/g;

/** The text as spans: text, code, person and time. */
export function spans(value) {
  const text = String(value);
  const out = [];
  let plain = '';
  const flushText = () => {
    if (plain !== '') out.push(...tokens(plain));
    plain = '';
  };
  let i = 0;
  while (i < text.length) {
    if (text[i] !== '`') {
      const next = text.indexOf('`', i);
      const end = next === -1 ? text.length : next;
      plain += text.slice(i, end);
      i = end;
      continue;
    }
    let n = 0;
    while (text[i + n] === '`') n++;
    const close = closingRun(text, i + n, n);
    if (close === -1) {
      plain += text.slice(i, i + n);
      i += n;
      continue;
    }
    let content = text.slice(i + n, close);
    flushText();
    i = close + n;
    // Three or more backticks and a line break: a preformatted block (pre()).
    if (n >= 3 && content.startsWith('\n')) {
      out.push({ kind: 'pre', text: content.slice(1).replace(/\n$/, '') });
      continue;
    }
    if (content.length >= 2 && content.startsWith(' ') && content.endsWith(' ') && content.trim() !== '') content = content.slice(1, -1);
    out.push({ kind: 'code', text: content });
  }
  flushText();
  return out;
}

function closingRun(text, from, n) {
  for (let i = from; i < text.length; ) {
    if (text[i] !== '`') {
      i++;
      continue;
    }
    let m = 0;
    while (text[i + m] === '`') m++;
    if (m === n) return i;
    i += m;
  }
  return -1;
}

function tokens(text) {
  const out = [];
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    if (match.index > last) out.push({ kind: 'text', text: text.slice(last, match.index) });
    if (match[1] !== undefined) out.push({ kind: 'person', id: match[1] });
    else if (match[2] !== undefined) out.push({ kind: 'time', iso: match[2] });
    else out.push({ kind: 'link', url: match[3] ?? match[5], label: match[4] ?? match[5] });
    last = match.index + match[0].length;
  }
  if (last < text.length) out.push({ kind: 'text', text: text.slice(last) });
  return out;
}

/** The text as a person reads it without markup: code as its characters, people and times by `name` / `when`. */
export function plainText(value, name = (id) => id, when = (iso) => iso) {
  return spans(value)
    .map((s) => (s.kind === 'person' ? name(s.id) : s.kind === 'time' ? when(s.iso) : s.kind === 'link' ? (s.label === s.url ? s.url : `${s.label} (${s.url})`) : s.text))
    .join('');
}
