// klingrun as a library: plan a manifest, run it against the offline emulator, read the report.
// Plain Node, no TypeScript needed:  node library.mjs [manifest]   (default: jobs/example.yaml)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ConcurrencyGate, JOURNAL_FILE, REPORT_FILE, RequestLimiter, VERSION, buildReport, createClient, loadPlan,
  openJournal, readReport, resolveRunOptions, runBatch, silentLogger, startEmulator, systemClock,
} from 'klingrun';

// 1. Plan: every check `klingrun validate` makes; a ManifestError lists every problem with its line.
const manifest = process.argv[2] ?? 'jobs/example.yaml';
const { plan, manifestDir, manifestSha256 } = await loadPlan(manifest);
console.log(`${plan.name}: ${plan.jobs.length} jobs`);

// 2. Run against the emulator on 127.0.0.1, 100× faster than real time (a real run: the CometAPI
//    base URL and your key instead). The journal makes a rerun of this script resume, never repay.
const emulator = await startEmulator({ timeScale: 0.01 });
const outputDir = join('output', `${plan.name}-library`);
mkdirSync(outputDir, { recursive: true });
const journal = openJournal(join(outputDir, JOURNAL_FILE), { name: plan.name, toolVersion: VERSION });
const options = resolveRunOptions([{ rpm: 6000, poll_interval_s: 0.25 }], false);
try {
  const result = await runBatch({
    plan, manifestDir, outputDir, journal, options,
    client: createClient({ baseUrl: emulator.url, apiKey: 'emulator-key' }),
    limiter: new RequestLimiter({ rpm: options.rpm, clock: systemClock }),
    gate: new ConcurrencyGate({ max: options.concurrency }),
    clock: systemClock, random: Math.random, logger: silentLogger,
  });
  if (result.stopReason) console.error('stopped early:', result.stopReason);
} finally {
  journal.close();
  await emulator.close();
}

// 3. The report: a pure function of the plan and the journal, validated when read back.
const report = buildReport({ plan, events: journal.events, manifest: { path: manifest, sha256: manifestSha256 }, toolVersion: VERSION });
writeFileSync(join(outputDir, REPORT_FILE), JSON.stringify(report, null, 2) + '\n');
const { totals, jobs } = readReport(outputDir);
console.log(`${totals.succeeded} of ${totals.jobs} succeeded; first video: ${jobs[0]?.video?.path}`);
