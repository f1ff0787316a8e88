// `npm run soak`: the long suites. First the folder lock: `--race-trials` trials (default 200) of
// `--race-workers` processes (default 8, some in their own pid namespace when `unshare` works)
// racing for one folder, with and without a stale lock in place; each trial must have exactly one
// winner and the holders' log no overlap (test/soak/race.ts). Then the crash suite: batches of 12
// jobs run through the real CLI against a faulty emulator, each killed (SIGKILL) 3-5 times at
// seeded moments and rerun until it finishes, cycling through every duplicate-id behaviour with
// external-id lookups and the list on and off, both emulator profiles, and the shapes of the world
// (lagging lookups, a large account, stale URLs that answer 400, creates a gateway delivers late,
// 19-digit numeric ids and unknown status words, a provider clock in seconds and two hours behind),
// until at least `--cycles` kills (default 50) were delivered, and every shape was met.
// Each batch is checked like test/crash.test.ts does (no task paid twice, videos and sha256, report,
// no key anywhere, the folder not left locked).
//
//   npm run soak                           # a fresh seed, printed first
//   npm run soak -- --seed 42 --cycles 80  # the same decisions again, more of them
//   npm run soak -- --seed 1234 --batches 1  # replay one batch (its seed is printed on failure)
//   npm run soak -- --race-only --race-trials 500   # only the lock race, longer
//   npm run soak -- --skip-race            # only the crash suite
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { seededRandom } from '../../src/effects.js';
import { type Behaviour, type CrashBatchResult, BEHAVIOURS, PROFILES, type Profile, SHAPES, type WorldShape, crashBatch, describeBehaviour, removeOutput } from '../helpers/crash.js';
import { racePhase } from './race.js';

const MANIFEST = fileURLToPath(new URL('../fixtures/crash/soak.yaml', import.meta.url));


const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    cycles: { type: 'string', default: '50' },
    batches: { type: 'string' },
    'race-trials': { type: 'string', default: '200' },
    'race-workers': { type: 'string', default: '8' },
    'race-only': { type: 'boolean', default: false },
    'skip-race': { type: 'boolean', default: false },
  },
});
const seed = values.seed === undefined ? Math.floor(Math.random() * 1_000_000) : Number(values.seed);
const cycles = Number(values.cycles);
const maxBatches = values.batches === undefined ? Infinity : Number(values.batches);
const raceTrials = Number(values['race-trials']);
const raceWorkers = Number(values['race-workers']);
if (!Number.isInteger(seed) || !Number.isInteger(cycles) || cycles < 1 || !(maxBatches >= 1) || !(raceTrials >= 1) || !(raceWorkers >= 2) || (values['race-only'] && values['skip-race'])) {
  console.error('usage: npm run soak -- [--seed N] [--cycles N] [--batches N] [--race-trials N] [--race-workers N] [--race-only | --skip-race]');
  process.exit(2);
}

if (!values['skip-race']) {
  const problems = await racePhase({ trials: raceTrials, workers: raceWorkers, log: (line) => console.log(line) });
  if (problems.length > 0) {
    console.error('\nFAILED: the lock admitted more or fewer than one runner');
    for (const problem of problems) console.error(`  - ${problem}`);
    process.exit(1);
  }
  if (values['race-only']) {
    console.log('soak passed (race only)');
    process.exit(0);
  }
}

console.log(`soak: seed ${seed}, at least ${cycles} kill/rerun cycles`);
const started = Date.now();
const results: CrashBatchResult[] = [];
let kills = 0;
let failed: CrashBatchResult | undefined;
for (let batch = 0; (kills < cycles || results.length < SHAPES.length) && batch < maxBatches; batch++) {
  // Each batch draws from its own seed, so one failing batch can be replayed alone.
  const batchSeed = seed + batch;
  // Shapes cycle fastest (7 batches, co-prime with the 12 behaviours: every pairing comes round), so
  // a soak of a dozen batches meets each shape of the world; the profile turns over every 12.
  const behaviour = BEHAVIOURS[batchSeed % BEHAVIOURS.length] as Behaviour;
  const shape = SHAPES[batchSeed % SHAPES.length] as WorldShape;
  const profile = PROFILES[Math.floor(batchSeed / BEHAVIOURS.length) % PROFILES.length] as Profile;
  const wanted = 3 + Math.floor(seededRandom(batchSeed ^ 0x5eed)() * 3);
  const name = describeBehaviour(behaviour, profile, shape);
  console.log(`batch ${batch + 1} (seed ${batchSeed}, ${name}, ${wanted} kills)`);
  const result = await crashBatch({ seed: batchSeed, manifest: MANIFEST, behaviour, profile, shape, kills: wanted, killWithinLines: 30, log: (line) => console.log(line) });
  results.push(result);
  kills += result.kills;
  if (result.problems.length > 0) {
    failed = result;
    break;
  }
  removeOutput(result.outputDir);
}

const rows = results.map((r) => [
  String(r.seed),
  describeBehaviour(r.behaviour, r.profile, r.shape),
  String(r.kills),
  String(r.runs.length),
  String(r.stats.tasksCreated),
  String(Object.values(r.stats.faultsFired).reduce((a, b) => a + (b ?? 0), 0)),
  `${(r.ms / 1000).toFixed(1)} s`,
  r.problems.length === 0 ? 'ok' : 'FAILED',
]);
const header = ['seed', 'behaviour', 'kills', 'runs', 'tasks', 'faults', 'time', 'result'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
for (const row of [header, ...rows]) console.log(row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  '));
console.log(`${results.length} batch(es), ${kills} kills, ${results.reduce((n, r) => n + r.runs.length, 0)} runs in ${((Date.now() - started) / 1000).toFixed(1)} s`);

if (failed) {
  console.error(`\nFAILED: batch seed ${failed.seed} (${describeBehaviour(failed.behaviour, failed.profile, failed.shape)}); output kept in ${failed.outputDir}`);
  for (const problem of failed.problems) console.error(`  - ${problem}`);
  console.error(`replay it: npm run soak -- --seed ${failed.seed} --batches 1`);
  process.exit(1);
}
if (kills < cycles) {
  console.error(`FAILED: only ${kills} of ${cycles} kills were delivered (runs finished before their kill moment)`);
  process.exit(1);
}
console.log('soak passed');
