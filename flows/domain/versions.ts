// Version strings as CS reports them: "1.16.9-aliyun.1", "v1.8.7-b5e0b99", "1.7.6".

/** The numeric release parts of a version, without a leading "v" or a "-suffix"; null when unreadable. */
export function releaseParts(version: string): number[] | null {
  const release = version.trim().replace(/^v/i, '').split(/[-+]/)[0] ?? '';
  if (!/^\d+(\.\d+)*$/.test(release)) return null;
  return release.split('.').map(Number);
}

/** -1, 0 or 1 as a is older than, equal to or newer than b; missing parts count as 0. */
export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  const left = releaseParts(a);
  const right = releaseParts(b);
  if (!left || !right) throw new Error(`cannot compare versions "${a}" and "${b}"`);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference < 0 ? -1 : 1;
  }
  return 0;
}
