// Task ids sent as JSON numbers of 19 digits, beyond what a JS number holds exactly: read from the
// answer's text without losing a digit, polled and downloaded with the exact id. And an answer
// that arrives but cannot be used is said to be just that, never "lost".
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type ParseContext, keepBigIntegers, parseResponse } from '../src/api/parse.js';
import type { EmulatorOptionsInput } from '../src/emulator/index.js';
import { videoFor } from '../src/emulator/videos.js';
import { replay } from '../src/runner/job-state.js';
import { runInProcess, sha256 } from './helpers/crash.js';
import { body, call, emulator } from './helpers/emulator.js';
import { raw } from './helpers/api-fixtures.js';
import { makePlan } from './helpers/runner-harness.js';

const context: ParseContext = { label: 'GET /kling/v1/videos/image2video/x', secret: 'sk-big-ids', now: 0 };
const ID = '2032273942220931073'; // as a JS number: 2032273942220931000

describe('reading ids from the raw text', () => {
  it('keeps every digit of a task id sent as a JSON number, in a task and in a list', () => {
    const task = `{"task_id":${ID},"task_status":"submitted","task_info":{"external_task_id":"kr-1"},"created_at":1773366840306}`;
    expect(parseResponse(raw(200, `{"code":0,"message":"success","data":${task}}`), 'task', context)).toMatchObject({ task_id: ID, created_at: 1773366840306 });
    const list = parseResponse(raw(200, `{"code":0,"data":[${task}, ${task.replace(ID, '-9007199254740993')}]}`), 'list', context);
    expect(Array.isArray(list) && list.map((t) => t.task_id)).toEqual([ID, '-9007199254740993']);
  });

  it('leaves strings, fractions, exponents and exact numbers as they are', () => {
    const text = `{"a":"x\\"${ID}","b":1.20322739422209310731,"c":2e${ID},"d":9007199254740991,"e":[${ID}]}`;
    expect(keepBigIntegers(text)).toBe(`{"a":"x\\"${ID}","b":1.20322739422209310731,"c":2e${ID},"d":9007199254740991,"e":["${ID}"]}`);
  });
});

describe('emulator: `numericTaskIds`', () => {
  const KEY = 'big-ids-key';
  const FAST = { keys: [KEY], timeScale: 0.002, queueS: 5, processingS: 20, numericTaskIds: true } as const satisfies EmulatorOptionsInput;

  it('writes task ids as bare 19-digit numbers', async () => {
    const emu = await emulator(FAST);
    const answer = await call(emu, 'POST', '/kling/v1/videos/image2video', { key: KEY, body: body() });
    expect(answer.text).toMatch(/"task_id":\d{19},/);
  });

  it('a run polls and downloads each task by its exact id', async () => {
    const emu = await emulator(FAST);
    const plan = makePlan(2);
    const run = await runInProcess(emu, plan, { key: KEY });
    onTestFinished(() => rmSync(run.outputDir, { recursive: true, force: true }));
    for (const job of plan.jobs) {
      const state = replay(run.events).get(job.id);
      expect(state?.phase).toBe('downloaded');
      expect(state?.taskId).toMatch(/^\d{19}$/);
      // The emulator's video is made from its task id: only the exact id gets this one.
      expect(sha256(readFileSync(join(run.outputDir, state?.download?.path ?? '')))).toBe(sha256(videoFor(state?.taskId ?? '', '5')));
      expect(emu.stats().tasksByExternalId[job.external_task_id]).toBe(1);
    }
  });
});

describe('an answer that arrives but cannot be used', () => {
  it('is said to be that, not "lost", in the unconfirmed message', async () => {
    const KEY = 'unusable-answer-key';
    const emu = await emulator({ keys: [KEY], timeScale: 0.002, externalIdLookup: false, listSupported: false, faults: [{ kind: 'unexpected-json', on: ['create'], count: 1 }] });
    const plan = makePlan(1);
    const run = await runInProcess(emu, plan, { key: KEY });
    onTestFinished(() => rmSync(run.outputDir, { recursive: true, force: true }));
    const state = replay(run.events).get(plan.jobs[0]!.id);
    expect(state?.phase).toBe('submitting');
    expect(state?.unconfirmed).toMatch(/^The provider answered the submit, but its answer could not be used \(expected a JSON envelope, got HTTP 200 with JSON of an unexpected shape/);
    expect(state?.unconfirmed).not.toMatch(/lost/);
  });
});
