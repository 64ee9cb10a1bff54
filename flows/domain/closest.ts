// "Did you mean …": the known word nearest to what was typed, for typos in commands, regions and ids.

/** Levenshtein distance: insertions, deletions and substitutions. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The candidates within `most` edits of `typed` (case ignored, the exact one left out), nearest first, at most `count`. */
export function nearest(typed: string, candidates: readonly string[], most = 2, count = 1): string[] {
  const wanted = typed.toLowerCase();
  return candidates
    .map((candidate) => ({ candidate, distance: editDistance(wanted, candidate.toLowerCase()) }))
    .filter((c) => c.distance > 0 && c.distance <= most)
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
    .slice(0, count)
    .map((c) => c.candidate);
}

/** The candidate nearest to `typed` within `most` edits; null when none is that close or it is exact. */
export function closest(typed: string, candidates: readonly string[], most = 2): string | null {
  return nearest(typed, candidates, most)[0] ?? null;
}
