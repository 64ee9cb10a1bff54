// `npm run bench`: runs every benchmark in turn, prints one table, writes bench/results/latest.json.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { ackLatency } from './ack-latency.ts';
import { chartSvg } from './chart.ts';
import { engineOverhead } from './engine-overhead.ts';
import { fleet } from './fleet.ts';
import { scale } from './scale.ts';
import type { BenchResult } from './stats.ts';

const BENCHMARKS: Record<string, () => Promise<BenchResult>> = {
  ack: ackLatency,
  engine: engineOverhead,
  scale,
  fleet,
};

const only = process.argv.slice(2);
const results: (BenchResult & { key: string })[] = [];
for (const [key, run] of Object.entries(BENCHMARKS)) {
  if (only.length > 0 && !only.includes(key)) continue;
  process.stdout.write(`running ${key}…\n`);
  results.push({ key, ...(await run()) });
}

const rows = results.flatMap((r) =>
  r.figures.map((f) => ({
    benchmark: r.name,
    metric: f.metric,
    value: `${f.value} ${f.unit}`,
    baseline: f.baseline === undefined ? '' : `${f.baseline} ${f.unit}`,
    ratio: f.ratio === undefined ? '' : `${f.ratio}×`,
    goal: f.goal ?? '',
    met: f.met === undefined ? '' : f.met ? 'yes' : 'NO',
  })),
);
console.table(rows);
for (const r of results) for (const note of r.notes ?? []) console.log(`${r.name}: ${note}`);

// `npm run bench -- fleet` reruns one benchmark: the others keep their last results (each says when it ran).
const at = new Date().toISOString();
const file = new URL('./results/latest.json', import.meta.url);
const previous = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { results?: (BenchResult & { key?: string })[] }).results ?? [] : [];
const merged = Object.keys(BENCHMARKS).flatMap((key) => {
  const now = results.find((r) => r.key === key);
  if (now) return [{ ...now, at }];
  return previous.filter((r) => r.key === key);
});
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(file, `${JSON.stringify({ at, node: process.version, cpus: cpus().length, results: merged }, null, 2)}\n`);
writeFileSync(new URL('./results/latest.svg', import.meta.url), chartSvg(merged, `${at}, Node ${process.version}, ${cpus().length} CPUs`));
process.exit(0);
