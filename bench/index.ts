// `npm run bench`: runs each bench case in a fresh child process (so its time and peak RSS are
// its own), prints a table and writes output/bench.json. To add a case, write a module exporting
// a BenchCase and append it to CASES. `npm run bench -- <name>...` runs only the named cases.
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { planCase } from './plan.js';
import { pollCostCase } from './poll-cost.js';
import { rateLimitCase } from './rate-limit.js';
import { replayCase, scaleRunCase } from './scale.js';
import { startupCase } from './startup.js';
import { limitBelowCase, stormCase } from './storm.js';
import { tableCase } from './table.js';
import { throughputCase } from './throughput.js';

export interface BenchCase {
  readonly name: string;
  readonly description: string;
  /** What "fast enough" means; each is reported as met or missed. */
  readonly targets: { readonly ms?: number; readonly rssMb?: number };
  /** Untimed preparation in the parent, in a temp folder removed afterwards; returns the input of `run`. */
  prepare(dir: string): Promise<unknown>;
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
}

export const CASES: readonly BenchCase[] = [
  planCase,
  tableCase,
  throughputCase(5),
  throughputCase(20),
  rateLimitCase,
  stormCase,
  limitBelowCase,
  pollCostCase,
  replayCase,
  scaleRunCase,
  startupCase,
];

interface Measured {
  readonly ms: number;
  readonly rssMb: number;
  readonly detail: string;
  readonly metrics: readonly Metric[];
}

const SELF = fileURLToPath(import.meta.url);

/** Child side: run one case and send the measurement back. */
async function runChild(name: string, input: unknown): Promise<void> {
  const bench = CASES.find((c) => c.name === name);
  if (!bench) throw new Error(`no bench case ${name}`);
  const start = performance.now();
  const result = await bench.run(input);
  const ms = performance.now() - start;
  const rssMb = process.resourceUsage().maxRSS / 1024;
  const { detail, metrics } = typeof result === 'string' ? { detail: result, metrics: [] } : result;
  process.send?.({ ms, rssMb, detail, metrics } satisfies Measured);
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

async function main(): Promise<void> {
  const rows: Record<string, unknown>[] = [];
  const only = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
  const unknown = only.filter((name) => !CASES.some((c) => c.name === name));
  if (unknown.length) throw new Error(`no bench case ${unknown.join(', ')} (cases: ${CASES.map((c) => c.name).join(', ')})`);
  console.log(`${'case'.padEnd(12)} ${'time'.padStart(9)}${''.padEnd(7)} ${'peak RSS'.padStart(8)}${''.padEnd(6)}  detail`);
  for (const bench of CASES.filter((c) => only.length === 0 || only.includes(c.name))) {
    const dir = mkdtempSync(join(tmpdir(), `klingrun-bench-${bench.name}-`));
    try {
      const m = await measure(bench, await bench.prepare(dir));
      rows.push({ name: bench.name, description: bench.description, ms: Math.round(m.ms), rss_mb: Math.round(m.rssMb), detail: m.detail, targets: bench.targets, metrics: m.metrics });
      console.log(
        `${bench.name.padEnd(12)} ${`${m.ms.toFixed(0)} ms`.padStart(9)}${verdict(m.ms, bench.targets.ms).padEnd(7)} ` +
          `${`${m.rssMb.toFixed(0)} MB`.padStart(8)}${verdict(m.rssMb, bench.targets.rssMb).padEnd(6)}  ${m.detail}`,
      );
      for (const metric of m.metrics) {
        const target = metric.target === undefined ? '' : `<= ${shown(metric.target)}`;
        console.log(`${''.padEnd(14)}${metric.name.padEnd(36)} ${shown(metric.value).padStart(9)} ${target.padEnd(10)}${verdict(metric.value, metric.target)}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
