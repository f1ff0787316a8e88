import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, acquireLock, isProcessAlive } from '../src/state/lock.js';
import { FakeClock } from './helpers/fake-clock.js';
import { recordingLogger, stateErrorOf } from './helpers/state.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'klingrun-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lockPath = (): string => join(dir, LOCK_FILE);
const writeHolder = (holder: unknown): void => writeFileSync(lockPath(), JSON.stringify(holder));

describe('acquireLock', () => {
  it('creates run.lock with pid, host and start time, and removes it on release', () => {
    const lock = acquireLock(dir, { pid: 4242, hostname: 'box', clock: new FakeClock(Date.UTC(2025, 5, 1)) });
    expect(JSON.parse(readFileSync(lockPath(), 'utf8'))).toEqual({ pid: 4242, host: 'box', started_at: '2025-06-01T00:00:00.000Z' });
    lock.release();
    lock.release();
    expect(existsSync(lockPath())).toBe(false);
    expect(readdirSync(dir)).toEqual([]); // no temp files left behind
  });

  it('creates a missing output folder', () => {
    const nested = join(dir, 'output', 'batch');
    acquireLock(nested, { hostname: 'box' }).release();
    expect(existsSync(nested)).toBe(true);
  });

  it('refuses while another live runner on this host holds it, naming its pid', () => {
    writeHolder({ pid: 1111, host: 'box', started_at: '2025-06-01T00:00:00.000Z' });
    const error = stateErrorOf(() => acquireLock(dir, { pid: 2222, hostname: 'box', isAlive: (pid) => pid === 1111 }));
    expect(error.code).toBe('state_locked');
    expect(error.message).toContain('pid 1111 on host box');
    expect(error.message).toContain('kill 1111');
    expect(error.message).toContain('--output');
    expect(JSON.parse(readFileSync(lockPath(), 'utf8')).pid).toBe(1111); // untouched
  });

  it('takes over at once from a runner of this host that is no longer running', () => {
    writeHolder({ pid: 1111, host: 'box', started_at: '2025-06-01T00:00:00.000Z' });
    const logger = recordingLogger();
    const lock = acquireLock(dir, { pid: 2222, hostname: 'box', isAlive: () => false, logger });
    expect(JSON.parse(readFileSync(lockPath(), 'utf8')).pid).toBe(2222);
    expect(logger.warnings).toEqual([expect.stringContaining('pid 1111')]);
    lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('takes over a lock left by an earlier process with our own pid (a restarted container)', () => {
    writeHolder({ pid: 77, host: 'box', started_at: '2025-06-01T00:00:00.000Z' });
    const lock = acquireLock(dir, { pid: 77, hostname: 'box', isAlive: () => true });
    expect(JSON.parse(readFileSync(lockPath(), 'utf8')).started_at).not.toBe('2025-06-01T00:00:00.000Z');
    lock.release();
  });

  it('refuses a second lock on the same folder from this very process', () => {
    const lock = acquireLock(dir);
    expect(stateErrorOf(() => acquireLock(dir)).code).toBe('state_locked');
    lock.release();
    acquireLock(dir).release();
  });

  it('refuses a lock held on another host, saying when deleting it is safe', () => {
    writeHolder({ pid: 1111, host: 'render-02', started_at: '2025-06-01T00:00:00.000Z' });
    const error = stateErrorOf(() => acquireLock(dir, { pid: 2222, hostname: 'box', isAlive: () => false }));
    expect(error.code).toBe('state_locked');
    expect(error.message).toContain('pid 1111 on host render-02');
    expect(error.message).toContain(`delete ${lockPath()}`);
    expect(error.message).toContain('only');
  });

  it.each([
    ['garbage', 'not json at all'],
    ['an empty file', ''],
    ['JSON without a pid', '{"host":"box"}'],
  ])('takes over an unreadable lock (%s) with a warning', (_name, content) => {
    writeFileSync(lockPath(), content);
    const logger = recordingLogger();
    const lock = acquireLock(dir, { pid: 2222, hostname: 'box', logger });
    expect(JSON.parse(readFileSync(lockPath(), 'utf8')).pid).toBe(2222);
    expect(logger.warnings).toEqual([expect.stringContaining('could not be read as a lock')]);
    lock.release();
  });

  it('leaves a lock alone on release once another runner has taken it over', () => {
    const lock = acquireLock(dir, { pid: 1111, hostname: 'box' });
    writeHolder({ pid: 3333, host: 'box', started_at: '2025-06-01T00:00:00.000Z' });
    lock.release();
    expect(JSON.parse(readFileSync(lockPath(), 'utf8')).pid).toBe(3333);
  });
});

// Each contender waits for the same go signal, tries once, reports, and holds its lock until told to exit.
const contender = `
const { acquireLock } = await import(process.argv[2]);
const [dir, go, done] = process.argv.slice(3);
const { existsSync } = await import('node:fs');
const until = async (file) => { while (!existsSync(file)) await new Promise((r) => setTimeout(r, 5)); };
process.stdout.write('ready\\n');
await until(go);
try { acquireLock(dir); process.stdout.write('won\\n'); } catch (error) { process.stdout.write(error.code + '\\n'); }
await until(done);
`;

describe('two runners racing for one folder', () => {
  it('lets exactly one of several processes started together win, even over a stale lock', async () => {
    writeHolder({ pid: 999_999_999, host: (await import('node:os')).hostname(), started_at: '2025-06-01T00:00:00.000Z' });
    const script = join(dir, 'contender.mjs');
    writeFileSync(script, contender);
    const [go, done] = [join(dir, 'go'), join(dir, 'done')];
    const lockModule = fileURLToPath(new URL('../src/state/lock.ts', import.meta.url));
    const children = Array.from({ length: 5 }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, lockModule, dir, go, done], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      return { output: () => out, exited };
    });
    const waitFor = async (ok: () => boolean): Promise<void> => {
      while (!ok()) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    await waitFor(() => children.every((c) => c.output().includes('ready')));
    writeFileSync(go, '');
    await waitFor(() => children.every((c) => c.output().split('\n').length > 2));
    writeFileSync(done, '');
    await Promise.all(children.map((c) => c.exited));
    const results = children.map((c) => c.output().split('\n')[1]).sort();
    expect(results).toEqual(['state_locked', 'state_locked', 'state_locked', 'state_locked', 'won']);
  }, 20_000);
});

describe('isProcessAlive', () => {
  it('sees this process alive and an exited child dead', () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    const child = spawnSync(process.execPath, ['-e', '0']);
    expect(isProcessAlive(child.pid)).toBe(false);
  });
});
