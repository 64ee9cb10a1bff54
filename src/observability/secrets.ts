// Known secret values (tokens, signing secrets, AccessKey secrets while they pass through) and a
// scrubber that replaces them wherever text leaves the process: logs, chat, errors.
const REPLACEMENT = '[REDACTED]';
const known = new Set<string>();

/** Registers a value that must never be written anywhere. Short values are ignored (too many false hits). */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 8) known.add(value);
}

export function forgetSecret(value: string): void {
  known.delete(value);
}

/** Shapes that are secrets wherever they appear, even when not registered. */
const SECRET_SHAPES = [
  /xox[abpr]-[0-9A-Za-z-]{10,}/g,
  /xapp-[0-9A-Za-z-]{10,}/g,
  /("?(?:access-?key-?secret|AccessKeySecret|accessKeySecret|client_?secret|clientSecret|appSecret|signing_?secret)"?\s*[:=]\s*"?)[^",}\s]+/gi,
];

export function scrub(text: string): string {
  let out = text;
  for (const secret of known) {
    if (out.includes(secret)) out = out.split(secret).join(REPLACEMENT);
  }
  for (const shape of SECRET_SHAPES) {
    out = out.replace(shape, (match, prefix?: string) => (typeof prefix === 'string' ? `${prefix}${REPLACEMENT}` : REPLACEMENT));
  }
  return out;
}
