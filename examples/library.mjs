// klingrun as a library: plan a manifest, run it against the offline emulator, read the report.
// Plain Node, no TypeScript needed:  node library.mjs [manifest]   (default: jobs/example.yaml)
import { join } from 'node:path';
import { loadPlan, readReport, runBatch, startEmulator } from 'klingrun';

// 1. Plan: every check `klingrun validate` makes; a ManifestError lists every problem with its line.
const manifest = process.argv[2] ?? 'jobs/example.yaml';
const loaded = await loadPlan(manifest);
console.log(`${loaded.plan.name}: ${loaded.plan.jobs.length} jobs`);

// 2. Run the batch as `klingrun run` does (lock, journal, submit, poll, download, report.json),
//    against the emulator on 127.0.0.1, 100× faster than real time. A real run: leave out baseUrl
//    and pass your CometAPI key. The journal makes a rerun of this script resume, never pay twice.
const emulator = await startEmulator({ timeScale: 0.01 });
const outputDir = join('output', `${loaded.plan.name}-library`);
try {
  const result = await runBatch({
    manifest: loaded,
    outputDir,
    baseUrl: emulator.url,
    apiKey: 'emulator-key',
    limits: { rpm: 6000, poll_interval_s: 0.25, absence_window_s: 1 },
    beforeRun: (work) => console.log(`${work.toSubmit.length} to submit, ${work.todo.length - work.toSubmit.length} under way`),
  });
  if (result.run.stopReason) console.error('stopped early:', result.run.stopReason);
} finally {
  await emulator.close();
}

// 3. The report, as written to the output folder and validated when read back.
const { totals, cost, jobs } = readReport(outputDir);
console.log(`${totals.succeeded} of ${totals.jobs} succeeded, $${cost.certain_usd.toFixed(2)}; first video: ${jobs[0]?.video?.path}`);
