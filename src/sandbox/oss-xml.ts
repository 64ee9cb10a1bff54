// OSS's XML: rendering responses and the service's error type (shared by the bucket and object operations).

export type XmlValue = string | number | boolean | XmlValue[] | { [name: string]: XmlValue };

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Renders `{ A: 'x', B: [{ C: 1 }, { C: 2 }] }` as <A>x</A><B><C>1</C></B><B><C>2</C></B>. */
export function toXml(name: string, value: XmlValue): string {
  if (Array.isArray(value)) return value.map((item) => toXml(name, item)).join('');
  if (typeof value === 'object') return `<${name}>${Object.entries(value).map(([k, v]) => toXml(k, v)).join('')}</${name}>`;
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

export class OssError extends Error {
  readonly status: number;
  readonly code: string;
  readonly extra: Record<string, XmlValue>;
  constructor(status: number, code: string, message: string, extra: Record<string, XmlValue> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

