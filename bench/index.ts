// `npm run bench`: runs each bench case in a fresh child process (so its time and peak RSS are
// its own), prints a table and writes output/bench.json. A case with `sizes` runs once per size,
// each in its own child, and the table adds how the figures grew from the smallest size to the
// largest: the cost should stay linear. To add a case, write a module exporting a BenchCase and
// append it to CASES. `npm run bench -- <name>...` runs only the named cases.
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { downloadCase } from './download.js';
import { galleryCase } from './gallery.js';
import { perModelCase } from './per-model.js';
import { planCase } from './plan.js';
import { pollCostCase } from './poll-cost.js';
import { rateLimitCase } from './rate-limit.js';
import { readSideCases } from './read-side.js';
import { replayCase, scaleRunCase, statusCase } from './scale.js';
import { shardsCase } from './shards.js';
import { startupCase } from './startup.js';
import { limitBelowCase, stormCase } from './storm.js';
import { tableCase } from './table.js';
import { throughputCase } from './throughput.js';

export interface BenchCase {
  readonly name: string;
  readonly description: string;
  /** What "fast enough" means, at the largest size; each is reported as met or missed. */
  readonly targets: { readonly ms?: number; readonly rssMb?: number };
  /** Jobs per run, smallest first: one child each, and the growth from first to last is reported. */
  readonly sizes?: readonly number[];
  /** Untimed preparation in the parent, in a temp folder removed afterwards; returns the input of `run`. */
  prepare(dir: string, size: number): Promise<unknown>;
  /** The measured work, in a child process; resolves to a one-line detail, or a detail and measured ratios. */
  run(input: unknown): Promise<string | BenchResult>;
}

/** A number a case measured, printed under its row; `target` is an upper bound (value <= target is met). */
export interface Metric {
  readonly name: string;
  readonly value: number;
  readonly target?: number;
}

export interface BenchResult {
  readonly detail: string;
  readonly metrics: readonly Metric[];
  /** Time and peak RSS of a process the case started (the CLI), shown instead of the child's own. */
  readonly process?: { readonly ms: number; readonly cpuMs?: number; readonly rssMb: number };
}

export const CASES: readonly BenchCase[] = [
  planCase,
  tableCase,
  throughputCase(5),
  throughputCase(20),
  rateLimitCase,
  stormCase,
  limitBelowCase,
  perModelCase,
  shardsCase,
  pollCostCase,
  replayCase,
  statusCase,
  ...readSideCases,
  scaleRunCase,
  galleryCase,
  startupCase,
  downloadCase,
];

interface Measured {
  readonly ms: number;
  readonly rssMb: number;
  /** User + system CPU time of the measured process. */
  readonly cpuMs?: number;
  readonly detail: string;
  readonly metrics: readonly Metric[];
}

const SELF = fileURLToPath(import.meta.url);

/** Child side: run one case and send the measurement back. */
async function runChild(name: string, input: unknown): Promise<void> {
  const bench = CASES.find((c) => c.name === name);
  if (!bench) throw new Error(`no bench case ${name}`);
  const cpu = process.cpuUsage();
  const start = performance.now();
  const result = await bench.run(input);
  const ms = performance.now() - start;
  const { user, system } = process.cpuUsage(cpu);
  const rssMb = process.resourceUsage().maxRSS / 1024;
  const { detail, metrics, process: started } = typeof result === 'string' ? { detail: result, metrics: [], process: undefined } : result;
  process.send?.({ ms, cpuMs: (user + system) / 1000, rssMb, detail, metrics, ...started } satisfies Measured);
}

function measure(bench: BenchCase, input: unknown): Promise<Measured> {
  return new Promise((resolve, reject) => {
    // execArgv is inherited, so the child runs under tsx like this process.
    const child = fork(SELF, ['--case', bench.name], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
    let result: Measured | undefined;
    child.on('message', (message) => (result = message as Measured));
    child.on('error', reject);
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`bench case ${bench.name} exited with ${code}`))));
    child.send({ input });
  });
}

const verdict = (value: number, target: number | undefined) => (target === undefined ? '' : value <= target ? ' ok' : ' MISSED');
const shown = (value: number): string => (Number.isInteger(value) ? String(value) : value.toPrecision(4));
const sizeLabel = (size: number): string => (size % 1000 === 0 ? `${size / 1000}k` : String(size));

function printRow(label: string, m: Measured, targets: BenchCase['targets']): void {
  const cpu = m.cpuMs === undefined ? '' : ` (CPU ${(m.cpuMs / 1000).toFixed(1)} s)`;
  console.log(
    `${label.padEnd(16)} ${`${m.ms.toFixed(0)} ms`.padStart(9)}${verdict(m.ms, targets.ms).padEnd(7)} ` +
      `${`${m.rssMb.toFixed(0)} MB`.padStart(8)}${verdict(m.rssMb, targets.rssMb).padEnd(6)}  ${m.detail}${cpu}`,
  );
  printMetrics(m.metrics);
}

function printMetrics(metrics: readonly Metric[]): void {
  for (const metric of metrics) {
    const target = metric.target === undefined ? '' : `<= ${shown(metric.target)}`;
    console.log(`${''.padEnd(18)}${metric.name.padEnd(36)} ${shown(metric.value).padStart(9)} ${target.padEnd(10)}${verdict(metric.value, metric.target)}`);
  }
}

/** How the figures grew from the smallest size to the largest. */
function growthOf(sizes: readonly number[], runs: readonly Measured[]): Metric[] {
  const [first, last] = [runs[0], runs.at(-1)];
  if (!first || !last || runs.length < 2) return [];
  const factor = (sizes.at(-1) ?? 1) / (sizes[0] ?? 1);
  // Linear, with 10% to spare: ≤ 11× for ten times the jobs.
  const target = 1.1 * factor;
  const label = `${sizeLabel(sizes.at(-1) ?? 0)} ÷ ${sizeLabel(sizes[0] ?? 0)}`;
  return [
    { name: `time, ${label}`, value: last.ms / first.ms, target },
    ...(first.cpuMs && last.cpuMs ? [{ name: `CPU time, ${label}`, value: last.cpuMs / first.cpuMs, target }] : []),
    { name: `peak RSS, ${label}`, value: last.rssMb / first.rssMb, target },
  ];
}

async function main(): Promise<void> {
  const rows: Record<string, unknown>[] = [];
  const only = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
  const unknown = only.filter((name) => !CASES.some((c) => c.name === name));
  if (unknown.length) throw new Error(`no bench case ${unknown.join(', ')} (cases: ${CASES.map((c) => c.name).join(', ')})`);
  console.log(`${'case'.padEnd(16)} ${'time'.padStart(9)}${''.padEnd(7)} ${'peak RSS'.padStart(8)}${''.padEnd(6)}  detail`);
  for (const bench of CASES.filter((c) => only.length === 0 || only.includes(c.name))) {
    const sizes = bench.sizes ?? [0];
    const runs: Measured[] = [];
    for (const [k, size] of sizes.entries()) {
      const dir = mkdtempSync(join(tmpdir(), `klingrun-bench-${bench.name}-`));
      try {
        const m = await measure(bench, await bench.prepare(dir, size));
        runs.push(m);
        const largest = k === sizes.length - 1;
        const label = bench.sizes ? `${bench.name} ${sizeLabel(size)}` : bench.name;
        printRow(label, m, largest ? bench.targets : {});
        rows.push({ name: bench.name, ...(bench.sizes ? { size } : {}), description: bench.description, ms: Math.round(m.ms), rss_mb: Math.round(m.rssMb), ...(m.cpuMs === undefined ? {} : { cpu_ms: Math.round(m.cpuMs) }), detail: m.detail, targets: largest ? bench.targets : {}, metrics: m.metrics });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const growth = growthOf(sizes, runs);
    printMetrics(growth);
    if (growth.length) rows.push({ name: bench.name, growth });
  }
  const out = fileURLToPath(new URL('../output/', import.meta.url));
  mkdirSync(out, { recursive: true });
  const machine = { node: process.version, cpus: cpus().length, platform: process.platform };
  // A partial run must not replace the full table with a few rows.
  const file = only.length ? 'bench-partial.json' : 'bench.json';
  writeFileSync(join(out, file), `${JSON.stringify({ machine, cases: rows }, null, 2)}\n`);
  console.log(`\nwrote output/${file} (${machine.cpus} CPUs, Node ${machine.node}); targets: time in ms, peak RSS in MB, ratios as shown`);
}

const caseIndex = process.argv.indexOf('--case');
if (caseIndex > 0) {
  const name = process.argv[caseIndex + 1] ?? '';
  process.once('message', (message) => {
    runChild(name, (message as { input: unknown }).input).then(
      () => process.disconnect?.(),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
} else if (process.argv[1] === SELF) {
  await main();
}
