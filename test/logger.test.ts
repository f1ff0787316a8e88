// The run's logger says a recurring warning once and then counts it: a task that succeeds without
// a video URL is asked about again at every poll (25 times a minute), and a batch of many tasks
// may meet the same problem on each. The count is said at the end (flush) and at most once a
// minute while the warnings keep coming; debug lines stay verbose.
import { cpSync, mkdirSync } from 'node:fs';
import { type IncomingMessage, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { DISTINCT_PER_SHAPE, SUMMARY_EVERY_MS, cliLogger, shapeOf } from '../src/cli/logger.js';
import { main } from '../src/cli/run-cli.js';
import { TASKS, emulator } from './helpers/emulator.js';
import { tempTree } from './helpers/manifest.js';
import { ROOT } from './helpers/reports.js';

/** A logger writing into an array of lines, on a clock the test moves. */
function recording(debug = false) {
  const lines: string[] = [];
  let at = 0;
  const logger = cliLogger((text) => lines.push(...text.split('\n').filter(Boolean)), debug, { countRepeats: true, now: () => at });
  return { lines, logger, advance: (ms: number) => void (at += ms) };
}

/** The poll's warning as src/runner/poll.ts words it. */
const noUrl = (taskId: string): string => `task ${taskId} succeeded without a video URL; asking again`;

describe('a recurring warning', () => {
  it('the same warning 25 times is printed once, then one summary line gives the count', () => {
    const { lines, logger } = recording();
    for (let i = 0; i < 25; i++) logger.warn(noUrl('851234567890'));
    expect(lines).toEqual(['warning: task 851234567890 succeeded without a video URL; asking again']);
    logger.flush();
    expect(lines).toEqual([
      'warning: task 851234567890 succeeded without a video URL; asking again',
      'warning repeated 24 more times: task 851234567890 succeeded without a video URL; asking again',
    ]);
    // The count was said: a second flush (a run's normal end, then its `finally`) adds nothing.
    logger.flush();
    expect(lines).toHaveLength(2);
  });

  it(`different tasks: the first ${DISTINCT_PER_SHAPE} are named, the rest counted under the message's shape`, () => {
    const { lines, logger } = recording();
    const tasks = ['T1', 'T2', 'T3', 'T4', 'T5'];
    for (let poll = 0; poll < 4; poll++) for (const task of tasks) logger.warn(noUrl(task));
    logger.flush();
    expect(lines).toEqual([
      'warning: task T1 succeeded without a video URL; asking again',
      'warning: task T2 succeeded without a video URL; asking again',
      'warning: task T3 succeeded without a video URL; asking again',
      'warning repeated 17 more times: task <id> succeeded without a video URL; asking again',
    ]);
  });

  it('warnings of different shapes are each said, and each counted apart', () => {
    const { lines, logger } = recording();
    for (let i = 0; i < 3; i++) {
      logger.warn(noUrl('T1'));
      logger.warn('cannot write videos/a.mp4: ENOSPC');
    }
    logger.flush();
    expect(lines).toEqual([
      'warning: task T1 succeeded without a video URL; asking again',
      'warning: cannot write videos/a.mp4: ENOSPC',
      'warning repeated 2 more times: task T1 succeeded without a video URL; asking again',
      'warning repeated 2 more times: cannot write videos/a.mp4: ENOSPC',
    ]);
  });

  it('while warnings keep coming, their count is said at most once a minute', () => {
    const { lines, logger, advance } = recording();
    // One poll every 2.4 s for three minutes.
    for (let t = 0; t < 3 * SUMMARY_EVERY_MS; t += 2_400) {
      logger.warn(noUrl('T1'));
      advance(2_400);
    }
    const summaries = lines.filter((line) => line.startsWith('warning repeated'));
    expect(summaries).toEqual([
      'warning repeated 25 more times: task T1 succeeded without a video URL; asking again',
      'warning repeated 25 more times: task T1 succeeded without a video URL; asking again',
    ]);
    logger.flush();
    expect(lines.at(-1)).toBe('warning repeated 24 more times: task T1 succeeded without a video URL; asking again');
    expect(lines.filter((line) => line.startsWith('warning: '))).toHaveLength(1);
  });

  it('a warning said once has no summary', () => {
    const { lines, logger } = recording();
    logger.warn('this provider offers neither lookups nor the task list');
    logger.flush();
    expect(lines).toEqual(['warning: this provider offers neither lookups nor the task list']);
  });
});

describe('what is not held back', () => {
  it('a logger not asked to count repeats (status, report, export) prints every warning, and its flush says nothing', () => {
    const lines: string[] = [];
    const logger = cliLogger((text) => lines.push(text), false);
    for (let i = 0; i < 3; i++) logger.warn(noUrl('T1'));
    logger.flush();
    expect(lines).toEqual(Array.from({ length: 3 }, () => 'warning: task T1 succeeded without a video URL; asking again\n'));
  });

  it('debug lines (KLINGRUN_DEBUG=1) are all printed, repeats included', () => {
    const { lines, logger } = recording(true);
    for (let i = 0; i < 5; i++) logger.debug('poll T1: HTTP 503');
    logger.flush();
    expect(lines).toEqual(Array.from({ length: 5 }, () => 'debug: poll T1: HTTP 503'));
  });

  it('info lines are printed as they come', () => {
    const { lines, logger } = recording();
    logger.info('x');
    logger.info('x');
    expect(lines).toEqual(['x', 'x']);
  });
});

describe('shapeOf', () => {
  it('takes out URLs, ids and numbers, and keeps the punctuation around them', () => {
    expect(shapeOf('task 8512-abc succeeded without a video URL; asking again')).toBe('task <id> succeeded without a video URL; asking again');
    expect(shapeOf('kr-0123456789abcdef01234567-a2: sending again')).toBe('<id>: sending again');
    expect(shapeOf('line 5. Fetch https://x.example/v/1.mp4?sig=abc failed after 2.5 s')).toBe('line <n>. Fetch <url> failed after <n> s');
  });
});

/**
 * A proxy in front of the emulator (which always gives a finished task its video) that answers
 * the first `emptyPolls` polls of each finished task with no video, as a provider sometimes does.
 */
async function withoutVideosAtFirst(target: string, emptyPolls: number): Promise<string> {
  const polls = new Map<string, number>();
  const read = async (req: IncomingMessage): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const server = createServer((req, res) => {
    void (async () => {
      const body = await read(req);
      const headers = { authorization: req.headers.authorization ?? '', 'content-type': req.headers['content-type'] ?? 'application/json' };
      const answer = await fetch(`${target}${req.url}`, { method: req.method, headers, ...(body.length ? { body } : {}) });
      let text = await answer.text();
      const task = req.method === 'GET' && req.url?.startsWith(`${TASKS}/`) ? req.url.slice(TASKS.length + 1) : undefined;
      const json = task && answer.ok ? (JSON.parse(text) as { data?: { task_status?: string; task_result?: { videos?: unknown[] } } }) : undefined;
      if (task && json?.data?.task_status === 'succeed' && (polls.get(task) ?? 0) < emptyPolls) {
        polls.set(task, (polls.get(task) ?? 0) + 1);
        json.data.task_result = { ...json.data.task_result, videos: [] };
        text = JSON.stringify(json);
      }
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      res.end(text);
    })();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  onTestFinished(() => new Promise<void>((done) => (server.closeAllConnections(), server.close(() => done()))));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** `klingrun run` of the example (8 jobs) in-process; `onStderr` may abort the run's signal (a Ctrl-C). */
async function runExample(baseUrl: string, onStderr: (text: string, interrupt: () => void) => void = () => {}) {
  const dir = tempTree();
  cpSync(join(ROOT, 'jobs'), join(dir, 'jobs'), { recursive: true });
  mkdirSync(join(dir, 'output'));
  const controller = new AbortController();
  let stderr = '';
  const io = {
    stdout: () => {},
    stderr: (text: string) => {
      stderr += text;
      onStderr(text, () => controller.abort());
    },
    env: { COMETAPI_KEY: 'emulator-key' },
    cwd: dir,
    isTTY: false,
    confirm: async () => false,
    signal: controller.signal,
  };
  const code = await main(['run', 'jobs/example.yaml', '--base-url', baseUrl, '--yes', '--output', 'out', '--poll-interval', '0.02', '--rpm', '6000'], io);
  return { code, lines: stderr.split('\n') };
}

/** Every poll's warning about a missing URL counted: said in full, or within a "repeated N more times" line. */
function noUrlWarnings(lines: readonly string[]): { said: number; counted: number } {
  const said = lines.filter((line) => /^warning: task \S+ succeeded without a video URL; asking again$/.test(line)).length;
  const counted = lines
    .map((line) => /^warning repeated (\d+) more times?: task \S+ succeeded without a video URL; asking again$/.exec(line)?.[1])
    .reduce((sum, n) => sum + Number(n ?? 0), 0);
  return { said, counted };
}

describe('a run whose tasks succeed without a video URL for several polls', () => {
  it('says the warning for the first tasks only, and counts the rest at the end', async () => {
    const provider = await emulator({ timeScale: 0.002 });
    const { code, lines } = await runExample(await withoutVideosAtFirst(provider.url, 5));
    expect(code, lines.join('\n')).toBe(0);
    // 8 tasks x 5 polls without a video: 40 warnings, 3 of them printed.
    expect(noUrlWarnings(lines)).toEqual({ said: DISTINCT_PER_SHAPE, counted: 40 - DISTINCT_PER_SHAPE });
  });

  it('interrupted (Ctrl-C): the count is still said when the run ends', async () => {
    const provider = await emulator({ timeScale: 0.002 });
    const { code, lines } = await runExample(await withoutVideosAtFirst(provider.url, 5), (text, interrupt) => {
      if (text.includes('succeeded without a video URL')) interrupt();
    });
    expect(code, lines.join('\n')).toBe(130);
    const { said, counted } = noUrlWarnings(lines);
    expect(said).toBeGreaterThanOrEqual(1);
    expect(said).toBeLessThanOrEqual(DISTINCT_PER_SHAPE);
    expect(counted).toBeGreaterThan(0);
  });
});
