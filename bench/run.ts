// `npm run bench`: runs every benchmark in turn, prints one table, writes bench/results/latest.json.
import { mkdirSync, writeFileSync } from 'node:fs';
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
const results: BenchResult[] = [];
for (const [key, run] of Object.entries(BENCHMARKS)) {
  if (only.length > 0 && !only.includes(key)) continue;
  process.stdout.write(`running ${key}…\n`);
  results.push(await run());
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

const at = new Date().toISOString();
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/latest.json', import.meta.url), `${JSON.stringify({ at, node: process.version, cpus: cpus().length, results }, null, 2)}\n`);
writeFileSync(new URL('./results/latest.svg', import.meta.url), chartSvg(results, `${at}, Node ${process.version}, ${cpus().length} CPUs`));
process.exit(0);
