// Types of inline.js (plain JavaScript so the sandbox chat page runs the same parser).
export type Span =
  | { kind: 'text'; text: string }
  | { kind: 'code'; text: string }
  | { kind: 'pre'; text: string }
  | { kind: 'person'; id: string }
  | { kind: 'time'; iso: string }
  | { kind: 'link'; url: string; label: string };

export function code(value: string | number): string;
export function pre(lines: string): string;
export function person(id: string): string;
export function time(at: string | Date): string;
export function spans(text: string): Span[];
export function plainText(text: string, name?: (id: string) => string, when?: (iso: string) => string): string;
