// `klingrun run` and `status` as a user meets them when the world is wrong: a provider that cannot
// be reached, an output folder that cannot be written, clips damaged after their download, a
// folder with no record of earlier runs.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBatch } from '../src/batch.js';
import { writeProviderFacts } from '../src/cli/provider-facts.js';
import { acquireLock } from '../src/state/lock.js';
import { runInProcess } from './helpers/bad-input.js';
import { body, create, emulator as testEmulator } from './helpers/emulator.js';
import { runCli, spawnCli } from './helpers/cli.js';
import { tempTree } from './helpers/manifest.js';
import { ROOT } from './helpers/reports.js';

/** A copy of the example manifest and its images in a fresh project folder (with its `output/`, like this repository). */
function exampleProject(): string {
  const dir = tempTree();
  cpSync(join(ROOT, 'jobs'), join(dir, 'jobs'), { recursive: true });
  mkdirSync(join(dir, 'output'));
  return dir;
}

const STACK_FRAME = /\n\s+at .+:\d+:\d+/;

/** A local port nothing listens on (just freed). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('a run that cannot make progress says so', () => {
  it('an unreachable --base-url: a clear error and exit 4 within seconds, nothing counted as in flight', async () => {
    const dir = exampleProject();
    const port = await closedPort();
    const result = await runCli(['run', 'jobs/example.yaml', '--base-url', `http://127.0.0.1:${port}`, '--yes', '--output', 'out'], { cwd: dir, env: { COMETAPI_KEY: 'sk-test-unreachable-0000' } });
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toMatch(new RegExp(`error: cannot connect to http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    expect(result.stderr).toContain('rerun the same command to resume');
    expect(result.stderr).not.toMatch(STACK_FRAME);
    const journal = readFileSync(join(dir, 'out', 'state.jsonl'), 'utf8');
    // Every refused connection went back to pending: no job is left "submitting".
    const last = new Map<string, string>();
    for (const line of journal.trim().split('\n')) {
      const event = JSON.parse(line) as { ev: string; job?: string };
      if (event.job) last.set(event.job, event.ev);
    }
    expect([...last.values()].every((ev) => ev === 'rejected')).toBe(true);
  });
});

describe('a TLS handshake that fails', () => {
  it('is a provider that cannot be reached: exit 4 naming the URL and the TLS error', async () => {
    const dir = exampleProject();
    const plainHttp = await testEmulator({});
    const url = plainHttp.url.replace('http://', 'https://');
    const result = await runInProcess(['run', 'jobs/example.yaml', '--base-url', url, '--yes', '--output', 'out'], dir, { COMETAPI_KEY: 'sk-test-tls-0000' });
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toMatch(new RegExp(`error: cannot connect to ${url.replaceAll('.', '\\.')}: .*SSL`));
    expect(plainHttp.stats().tasksCreated).toBe(0);
  });
});

describe('output folders that cannot be written', () => {
  it('an output folder under a file (or a read-only parent): exit 2 naming the folder, no stack trace', async () => {
    const dir = exampleProject();
    writeFileSync(join(dir, 'blocker'), 'a file, not a folder');
    const result = await runInProcess(['run', 'jobs/example.yaml', '--emulator', '--yes', '--output', 'blocker/out'], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: Cannot create the output folder .*blocker\/out: .*Choose a folder you can write to with --output DIR\.\n$/);
  });

  it('report.json that cannot be written: exit 2 naming it, the journal intact, no temp file left', async () => {
    const dir = exampleProject();
    mkdirSync(join(dir, 'out', 'report.json'), { recursive: true }); // a folder where the file goes
    const result = await runInProcess(['run', 'jobs/example.yaml', '--emulator', '--yes', '--output', 'out'], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: Cannot write .*out\/report\.json: .*Nothing recorded in the journal is lost/m);
    expect(result.stderr).not.toContain('internal error');
    expect(readdirSync(join(dir, 'out')).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(readFileSync(join(dir, 'out', 'state.jsonl'), 'utf8')).toContain('"ev":"downloaded"');
  });
});

describe('the report states what is on disk', () => {
  it('a clip damaged after its download is not reported as succeeded, by status or by a run that cannot fetch it again', async () => {
    const dir = exampleProject();
    const emulator = await testEmulator({ timeScale: 0.002 });
    const options = { manifest: 'jobs/example.yaml', cwd: dir, outputDir: 'out', apiKey: 'emulator-key', baseUrl: emulator.url, limits: { poll_interval_s: 0.05, rpm: 6000 } };
    const first = await runBatch(options);
    expect(first.report.summary.totals.succeeded).toBe(8);
    const victim = [...first.report.jobs()][0]!;
    writeFileSync(join(dir, 'out', victim.video!.path!), 'not the clip any more');

    const status = await runInProcess(['status', 'out'], dir);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('8 job(s): 7 succeeded, 1 not downloaded');
    expect(status.stdout).toMatch(new RegExp(`${victim.external_task_id} not_downloaded: the video ${victim.video!.path} on disk is not the one downloaded`));

    // A rerun whose download fails: the report keeps saying so, and the run does not claim success.
    const failing = (async () => new Response('gone', { status: 500 })) as typeof fetch;
    const second = await runBatch({ ...options, fetch: failing, random: () => 0 });
    const jobs = [...second.report.jobs()];
    const job = jobs.find((j) => j.id === victim.id)!;
    expect(job.status).toBe('not_downloaded');
    expect(job.error?.message).toMatch(/on disk is not the one downloaded .*the last try to download it again failed: the download failed 6 times/);
    expect(second.wanted.every((w) => jobs.find((j) => j.id === w.id)?.status === 'succeeded')).toBe(false);
  });
});

describe('status says whether a runner holds the folder', () => {
  it('a live holder: the numbers are still moving; a released or dead one: no such line, or that the next run takes over', async () => {
    const dir = exampleProject();
    expect((await runInProcess(['run', 'jobs/example.yaml', '--emulator', '--yes', '--output', 'out'], dir)).code).toBe(0);
    expect((await runInProcess(['status', 'out'], dir)).stdout).not.toMatch(/runner/i);

    const lock = await acquireLock(join(dir, 'out'));
    try {
      const held = await runInProcess(['status', 'out'], dir);
      expect(held.code).toBe(0);
      expect(held.stdout).toContain(`A runner is working in this folder now (pid ${process.pid} on `);
    } finally {
      lock.release();
    }
    expect((await runInProcess(['status', 'out'], dir)).stdout).not.toMatch(/runner/i);

    // A holder that died without releasing: a pid that is not running, on this machine.
    const dead = await acquireLock(join(dir, 'out'), { pid: 2 ** 22 + 17, refreshMs: 3_600_000 });
    const gone = await runInProcess(['status', 'out'], dir);
    expect(gone.stdout).toContain(`The runner that last held this folder (pid ${2 ** 22 + 17} on `);
    expect(gone.stdout).toContain('is no longer running: the next run takes over.');
    dead.release();
  });
});

describe('a folder with no record of earlier runs', () => {
  it('plan says so about the default output folder, until a run has written its journal there', async () => {
    const dir = exampleProject();
    const before = await runInProcess(['plan', 'jobs/example.yaml'], dir);
    expect(before.stderr).toMatch(/^note: output\/example\/ has no record of earlier runs of example\. If it ran from another folder or machine, `run` asks the provider about each job/m);
    // From another working folder, the same default folder: anchored to the manifest, not the cwd.
    expect((await runInProcess(['run', join(dir, 'jobs/example.yaml'), '--emulator', '--yes'], tempTree())).code).toBe(0);
    expect(existsSync(join(dir, 'output', 'example', 'state.jsonl'))).toBe(true);
    const after = await runInProcess(['plan', 'jobs/example.yaml'], dir);
    expect(after.stderr).not.toContain('no record of earlier runs');
    // status finds that folder from anywhere, given the manifest.
    const status = await runInProcess(['status', join(dir, 'jobs/example.yaml')], tempTree());
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('8 job(s): 8 succeeded.');
  });

  it('a manifest shipped inside node_modules runs into output/ of the working folder, not the installation', async () => {
    const installed = join(tempTree(), 'node_modules', 'klingrun');
    mkdirSync(installed, { recursive: true });
    cpSync(join(ROOT, 'jobs'), join(installed, 'jobs'), { recursive: true });
    writeFileSync(join(installed, 'package.json'), '{"name":"klingrun"}');
    const here = tempTree();
    const plan = await runInProcess(['plan', join(installed, 'jobs/example.yaml')], here);
    expect(plan.stderr).toMatch(/^note: output\/example\/ has no record of earlier runs/m);
    expect(plan.stderr).not.toContain('node_modules');
  });

  it('says that each job is looked up before its first submit; a rerun does not', async () => {
    const dir = exampleProject();
    const first = await runInProcess(['run', 'jobs/example.yaml', '--emulator', '--yes', '--output', 'out'], dir);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/note: out\/ has no record of earlier runs\. Before its first submit, each job is looked up at the provider/);
    const again = await runInProcess(['run', 'jobs/example.yaml', '--emulator', '--yes', '--output', 'out'], dir);
    expect(again.stderr).not.toContain('no record of earlier runs');
    expect(existsSync(join(dir, 'out', 'report.json'))).toBe(true);
  });
});

/** Runs `work` with every fetch of this process recorded (the CLI in-process uses the global one). */
async function recordingFetches<T>(work: () => Promise<T>): Promise<{ result: T; urls: string[] }> {
  const urls: string[] = [];
  const original = globalThis.fetch;
  globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
    urls.push(String(input instanceof Request ? input.url : input));
    return original(input, init);
  }) as typeof fetch;
  try {
    return { result: await work(), urls };
  } finally {
    globalThis.fetch = original;
  }
}

describe('what klingrun doctor learnt', () => {
  it('run does not try lookups doctor found unavailable, and says what that means', async () => {
    const dir = exampleProject();
    const cache = tempTree();
    const emulator = await testEmulator({ timeScale: 0.002, externalIdLookup: false });
    const env = { COMETAPI_KEY: 'emulator-key', KLINGRUN_CACHE_DIR: cache };
    writeProviderFacts(
      { base_url: emulator.url, checked_at: '2026-12-01T10:00:00.000Z', lookup_by_external_id: 'not_available', list: 'available', unfinished_tasks: 0, latency_ms: { p50: 1, max: 2 } },
      env,
    );
    const run = () => runInProcess(['run', 'jobs/example.yaml', '--base-url', emulator.url, '--yes', '--output', 'out', '--poll-interval', '0.05', '--rpm', '6000'], dir, env);
    const { result, urls } = await recordingFetches(run);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('note: `klingrun doctor` found lookups by external_task_id not available at this base URL (2026-12-01T10:00:00.000Z)');
    // No lookup by external id was tried (without doctor's finding, each job is looked up before its submit).
    expect(urls.filter((url) => /\/image2video\/kr-/.test(url))).toEqual([]);
    expect(emulator.stats().tasksCreated).toBe(8);
  });
});

describe('a journal holding work of an earlier manifest', () => {
  it('says how many jobs came from it, and finishes them', async () => {
    const dir = exampleProject();
    const emulator = await testEmulator({ timeScale: 0.002 });
    // A task an earlier version of the manifest sent, still in flight when that run stopped.
    const job = 'e'.repeat(64);
    const externalTaskId = `kr-${job.slice(0, 24)}`;
    const created = await create(emulator, body({ image: 'https://example.com/old.jpg', prompt: 'an older prompt', external_task_id: externalTaskId }));
    const taskId = created.json.data.task_id as string;
    const t = Date.now();
    const request = { model_name: 'kling-v2-6', mode: 'std', duration: '5', prompt: 'an older prompt', image: { kind: 'url', url: 'https://example.com/old.jpg' } };
    const journal = [
      { ev: 'header', t, version: 1, name: 'example', tool_version: 'test' },
      { ev: 'submitting', t, job, attempt: 1, external_task_id: externalTaskId, request, path: 'videos/old/old.mp4', cost_usd: 0.35 },
      { ev: 'submitted', t, job, attempt: 1, task_id: taskId },
    ];
    mkdirSync(join(dir, 'out'));
    writeFileSync(join(dir, 'out', 'state.jsonl'), journal.map((event) => `${JSON.stringify(event)}\n`).join(''));
    const env = { COMETAPI_KEY: 'emulator-key' };
    const result = await runInProcess(['run', 'jobs/example.yaml', '--base-url', emulator.url, '--yes', '--output', 'out', '--poll-interval', '0.05', '--rpm', '6000', '--absence-window', '1'], dir, env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('note: 1 job(s) came from an earlier version of the manifest and are still under way in out/: they were paid for, so they are finished (polled, downloaded) and count against --budget.');
    expect(existsSync(join(dir, 'out', 'videos', 'old', 'old.mp4'))).toBe(true);
    expect(emulator.stats().tasksCreated).toBe(9); // the earlier task and the manifest's 8, none twice
  });
});

describe("what the provider says it charged", () => {
  it('run and status show it next to the estimate (the live profile sends final_unit_deduction)', async () => {
    const dir = exampleProject();
    const emulator = await testEmulator({ timeScale: 0.002, profile: 'live' });
    const env = { COMETAPI_KEY: 'emulator-key' };
    const run = await runInProcess(['run', 'jobs/example.yaml', '--base-url', emulator.url, '--yes', '--output', 'out', '--poll-interval', '0.05', '--rpm', '6000'], dir, env);
    expect(run.code, run.stderr).toBe(0);
    const status = await runInProcess(['status', 'out'], dir);
    for (const output of [run.stdout, status.stdout]) expect(output).toMatch(/Cost: \$2\.24 certain \(succeeded\)\. The provider reports \$\d+\.\d\d actually charged for 8 job\(s\), at \$0\.14 a unit \(usd_per_unit in src\/data\/prices\.yaml\)\./);
  });
});

describe('run --emulator resumes', () => {
  it('a demo killed mid-run resumes on rerun: the emulator kept its tasks beside the journal, none is sent twice', async () => {
    const dir = exampleProject();
    const cli = spawnCli(['run', 'jobs/example.yaml', '--emulator', '--yes', '--poll-interval', '2'], { cwd: dir });
    expect(await cli.waitFor((lines) => lines.some((line) => line.includes(': submitted, task')))).toBe(true);
    await cli.kill();
    const tasksFile = join(dir, 'output', 'example', 'emulator-tasks.jsonl');
    const before = readFileSync(tasksFile, 'utf8').trim().split('\n').length - 1;
    expect(before).toBeGreaterThan(0);

    const rerun = await runCli(['run', 'jobs/example.yaml', '--emulator', '--yes'], { cwd: dir });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toContain('8 succeeded');
    const tasks = readFileSync(tasksFile, 'utf8').trim().split('\n').slice(1).map((line) => JSON.parse(line) as { externalTaskId: string });
    // One task per job, across both runs: the rerun found the first run's tasks instead of paying again.
    expect(tasks).toHaveLength(8);
    expect(new Set(tasks.map((task) => task.externalTaskId)).size).toBe(8);
  });
});
