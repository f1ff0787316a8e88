import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../src/effects.js';
import { KlingrunError } from '../src/errors.js';
import { JournalState } from '../src/runner/job-state.js';
import { type JournalEvent, journalEventSchema } from '../src/state/events.js';
import { type JournalFs, type JournalInput, nodeJournalFs, openJournal, readJournal, replayJournal } from '../src/state/journal.js';
import { FakeClock } from './helpers/fake-clock.js';
import { recordingLogger, stateErrorOf } from './helpers/state.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'klingrun-journal-'));
  file = join(dir, 'state.jsonl');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const jobId = (n: number): string => n.toString(16).padStart(64, '0');
const header = { t: 1, ev: 'header', version: 1, name: 'demo', tool_version: '0.1.0' } as const;
const submitting = (n: number, t = 2): JournalEvent => ({
  t,
  ev: 'submitting',
  job: jobId(n),
  attempt: 1,
  external_task_id: `kr-${n}`,
  request: { prompt: 'a café at dawn, 朝', image: { kind: 'url', url: `https://example.com/${n}.png` } },
});
const submitted = (n: number, t = 3): JournalEvent => ({ t, ev: 'submitted', job: jobId(n), attempt: 1, task_id: `task-${n}` });
const lines = (...events: unknown[]): string => events.map((e) => `${JSON.stringify(e)}\n`).join('');
/** The journal file's records; every line must be complete. */
function fileEvents(): unknown[] {
  const text = readFileSync(file, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n').map((line) => JSON.parse(line));
}

/** Opens the journal; `events` are the ones it replayed from the file (the journal itself keeps none). */
const open = (options: { logger?: Logger; fs?: JournalFs; name?: string } = {}) => {
  const events: JournalEvent[] = [];
  const journal = openJournal(file, { name: options.name ?? 'demo', toolVersion: '0.1.0', clock: new FakeClock(1_000), ...options, onEvent: (e) => events.push(e) });
  return Object.assign(journal, { events });
};
/** replayJournal, with the events it handed over. */
const replayAll = (chunks: Iterable<Uint8Array>) => {
  const events: JournalEvent[] = [];
  return { ...replayJournal(chunks, file, (e) => events.push(e)), events };
};

describe('openJournal', () => {
  it('starts a new journal with a header, stamps events from the clock, and replays them on reopen', () => {
    const journal = open();
    expect(journal.events).toEqual([]);
    expect(journal.replayed).toBe(0);
    expect(fileEvents()).toEqual([{ t: 1_000, ev: 'header', version: 1, name: 'demo', tool_version: '0.1.0' }]);
    const { t: _, ...withoutTime } = submitting(1);
    journal.append(withoutTime as JournalInput);
    journal.append(submitted(1, 1_234));
    journal.close();
    journal.close();
    expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(4); // three lines and the final newline
    const again = open();
    expect(again.events).toEqual([{ ...header, t: 1_000 }, { ...submitting(1), t: 1_000 }, submitted(1, 1_234)]);
    expect(again.replayed).toBe(3);
    again.close();
  });

  it('fsyncs a submitting event before append returns, and not every status change', () => {
    const calls: string[] = [];
    const spy: JournalFs = {
      ...nodeJournalFs,
      writeSync: (...args) => (calls.push('write'), nodeJournalFs.writeSync(...args)),
      fsyncSync: (fd) => (calls.push('fsync'), nodeJournalFs.fsyncSync(fd)),
    };
    const journal = open({ fs: spy });
    calls.length = 0;
    journal.append(submitted(1));
    expect(calls).toEqual(['write']);
    journal.append(submitting(2));
    expect(calls).toEqual(['write', 'write', 'fsync']);
    journal.flush();
    expect(calls.at(-1)).toBe('fsync');
    journal.close();
  });

  it('a failed fsync at close is a coded error naming the file, and the file is closed', () => {
    let closedFd: number | undefined;
    const failing: JournalFs = {
      ...nodeJournalFs,
      fsyncSync: () => {
        throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
      },
      closeSync: (fd) => ((closedFd = fd), nodeJournalFs.closeSync(fd)),
    };
    const journal = open();
    journal.close();
    const again = open({ fs: failing });
    expect(() => again.close()).toThrow(expect.objectContaining({ name: 'StateError', message: expect.stringMatching(/^Cannot flush .*state\.jsonl: EIO: i\/o error, fsync\. Nothing already in the journal is lost/) }));
    expect(closedFd).toBeTypeOf('number');
  });

  it('refuses to write an event that would make the journal unreadable', () => {
    const journal = open();
    const bad = { ...submitted(1), job: 'not-a-hash' };
    expect(() => journal.append(bad)).toThrow(KlingrunError);
    journal.close();
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
    expect(() => journal.append(submitted(1))).toThrow('closed');
  });

  it('drops a torn last line with a warning and cuts it off before the next append', () => {
    const good = lines(header, submitting(1));
    // A crash in the middle of a multi-byte character: the cut must be counted in bytes.
    const tornLine = Buffer.from(JSON.stringify(submitting(2))).subarray(0, 150);
    writeFileSync(file, Buffer.concat([Buffer.from(good), tornLine]));
    const logger = recordingLogger();
    const journal = open({ logger });
    expect(journal.events).toEqual([header, submitting(1)]);
    expect(logger.warnings).toEqual([expect.stringMatching(/state\.jsonl: ignoring the incomplete last line \(line 3\)/)]);
    journal.append(submitted(1));
    journal.close();
    expect(readFileSync(file, 'utf8').startsWith(good)).toBe(true);
    expect(fileEvents()).toEqual([header, submitting(1), submitted(1)]);
    expect(open().events).toHaveLength(3);
  });

  it.each([
    ['garbage after the newline of the last record, then blank lines', '{"t":5,"ev":"sta\n\n  \n'],
    ['zeros left by a power loss', '\0\0\0\0\0\0'],
    ['a last line that is not JSON even though it ends in a newline', 'xx}\n'],
  ])('treats %s as a torn last line', (_name, tail) => {
    writeFileSync(file, lines(header, submitted(1)) + tail);
    const logger = recordingLogger();
    const journal = open({ logger });
    expect(journal.events).toEqual([header, submitted(1)]);
    expect(logger.warnings).toHaveLength(1);
    journal.append(submitted(2));
    journal.close();
    expect(fileEvents()).toEqual([header, submitted(1), submitted(2)]);
  });

  it('keeps a complete last record whose newline is missing, and ends it before appending', () => {
    writeFileSync(file, lines(header) + JSON.stringify(submitting(1)));
    const logger = recordingLogger();
    const journal = open({ logger });
    expect(journal.events).toEqual([header, submitting(1)]);
    expect(logger.warnings).toEqual([]);
    journal.append(submitted(1));
    journal.close();
    expect(fileEvents()).toEqual([header, submitting(1), submitted(1)]);
  });

  it('tolerates blank lines and Windows line endings between records', () => {
    writeFileSync(file, `${JSON.stringify(header)}\r\n\n   \n${JSON.stringify(submitted(1))}\r\n`);
    expect(open().events).toEqual([header, submitted(1)]);
  });

  it('refuses a journal whose middle line is damaged, naming the file, the line and the fix', () => {
    const damaged = lines(header) + '{"t":2,"ev":"submi\n' + lines(submitted(1));
    writeFileSync(file, damaged);
    const error = stateErrorOf(() => open());
    expect(error.code).toBe('state_invalid');
    // The JSON parser's own words differ between Node versions.
    const shown = error.message.replaceAll(file, '<dir>/state.jsonl').replace(/JSON \(.*?\)\./, 'JSON (<parser message>).');
    expect(shown).toMatchInlineSnapshot(`"<dir>/state.jsonl, line 2: it is not valid JSON (<parser message>). This journal is the output folder's only record of what was submitted and paid for, so klingrun will not guess. If you can tell what the line should be, fix it by hand; otherwise move the file away (e.g. \`mv <dir>/state.jsonl <dir>/state.jsonl.bad\`) to start over, knowing that every job already submitted will then be submitted, and paid for, again."`);
    expect(readFileSync(file, 'utf8')).toBe(damaged); // untouched
  });

  it.each([
    ['a field of the wrong shape', { ...submitted(1), task_id: 42 }, /line 2: the "submitted" event is invalid \(`task_id`: .*expected string/],
    ['an unknown event type', { t: 2, ev: 'teleported', job: jobId(1) }, /line 2: unknown event type "teleported"/],
    ['an array', [1, 2], /line 2: it is not a JSON object/],
    ['an object without a type', { t: 2 }, /line 2: it has no event type/],
  ])('refuses a valid JSON line that is no journal event: %s', (_name, event, message) => {
    writeFileSync(file, lines(header, event, submitted(1)));
    expect(stateErrorOf(() => open()).message).toMatch(message);
  });

  it('refuses a schema-invalid last line too: only unparseable JSON can be a torn write', () => {
    writeFileSync(file, lines(header, { ...submitted(1), attempt: 0 }));
    expect(stateErrorOf(() => open()).message).toMatch(/line 2: the "submitted" event is invalid \(`attempt`/);
  });

  it('refuses a folder that belongs to another manifest, without touching it', () => {
    writeFileSync(file, lines({ ...header, name: 'other' }) + '{"torn');
    const error = stateErrorOf(() => open());
    expect(error.message).toContain('belongs to the manifest named "other", not "demo"');
    expect(error.message).toContain('--output');
    expect(readFileSync(file, 'utf8')).toBe(lines({ ...header, name: 'other' }) + '{"torn');
  });

  it('refuses a journal that does not start with its header', () => {
    writeFileSync(file, lines(submitted(1)));
    expect(stateErrorOf(() => open()).message).toMatch(/line 1: the journal does not start with its header/);
  });

  it('survives a full disk: no half line is left, nothing is recorded, and the next append works', () => {
    let full = true;
    const diskFull: JournalFs = {
      ...nodeJournalFs,
      writeSync: (fd, data, offset, length) => {
        if (!full) return nodeJournalFs.writeSync(fd, data, offset, length);
        nodeJournalFs.writeSync(fd, data, offset, Math.min(length, 10)); // part of the line reaches the disk
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      },
    };
    const journal = open();
    journal.close();
    const healthy = openJournal(file, { name: 'demo', toolVersion: '0.1.0', fs: diskFull });
    const error = stateErrorOf(() => healthy.append(submitting(1)));
    expect(error.message).toMatch(/Cannot write to .*state\.jsonl: ENOSPC: no space left on device/);
    expect(error.message).toContain('rerun the same command to resume');
    expect(healthy.replayed).toBe(1);
    expect(fileEvents()).toEqual([{ ...header, t: 1_000 }]);
    full = false;
    healthy.append(submitted(1));
    healthy.close();
    expect(open().events).toHaveLength(2);
  });

  it('cuts a half-written line before the next write even when the first repair failed', () => {
    let failing = true;
    const broken: JournalFs = {
      ...nodeJournalFs,
      writeSync: (fd, data, offset, length) => {
        if (!failing) return nodeJournalFs.writeSync(fd, data, offset, length);
        nodeJournalFs.writeSync(fd, data, offset, 5);
        throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
      },
      ftruncateSync: (fd, length) => {
        if (failing) throw Object.assign(new Error('EIO: i/o error, ftruncate'), { code: 'EIO' });
        nodeJournalFs.ftruncateSync(fd, length);
      },
    };
    open().close();
    const flaky = openJournal(file, { name: 'demo', toolVersion: '0.1.0', fs: broken });
    expect(() => flaky.append(submitted(1))).toThrow(/EIO/);
    expect(() => fileEvents()).toThrow(); // the half line is still there
    failing = false;
    flaky.append(submitted(2));
    flaky.close();
    expect(fileEvents()).toEqual([{ ...header, t: 1_000 }, submitted(2)]);
  });
});

describe('readJournal', () => {
  it('reads without changing the file, and a missing file has no events', () => {
    expect(readJournal(file, { name: 'demo' }).records).toBe(0);
    writeFileSync(file, lines(header) + '{"torn');
    const events: JournalEvent[] = [];
    expect(readJournal(file, { name: 'demo', onEvent: (e) => events.push(e) })).toMatchObject({ records: 1, torn: { line: 2 } });
    expect(events).toEqual([header]);
    expect(readFileSync(file, 'utf8')).toBe(lines(header) + '{"torn');
  });
});

describe('replayJournal', () => {
  // 1 header + 5 events for each of 4,000 jobs: 20,001 lines.
  function bigJournal(): { text: string; jobs: number } {
    const jobs = 4_000;
    const events: JournalEvent[] = [header];
    for (let n = 0; n < jobs; n++) {
      const job = jobId(n);
      events.push(submitting(n, 10 * n), submitted(n, 10 * n + 1));
      events.push({ t: 10 * n + 2, ev: 'status', job, task_id: `task-${n}`, task_status: 'processing' });
      if (n % 10 === 9) {
        events.push({ t: 10 * n + 3, ev: 'failed', job, attempt: 1, code: 1301, message: 'risk control', retriable: true });
        events.push({ t: 10 * n + 4, ev: 'status', job, task_id: `task-${n}`, task_status: 'failed' });
      } else {
        events.push({ t: 10 * n + 3, ev: 'succeeded', job, task_id: `task-${n}`, videos: [{ id: `v${n}`, url: `https://cdn.example.com/${n}.mp4`, duration: '5' }] });
        events.push({ t: 10 * n + 4, ev: 'downloaded', job, path: `videos/${n}.mp4`, sha256: jobId(n + 1), bytes: 1000 + n, duration_s: 5.04 });
      }
    }
    return { text: lines(...events), jobs };
  }

  it('replays a 20,000-line journal exactly, whatever the chunk boundaries', () => {
    const { text, jobs } = bigJournal();
    const bytes = Buffer.from(text);
    const whole = replayAll([bytes]);
    expect(whole.events).toHaveLength(1 + 5 * jobs);
    expect(whole.events).toEqual(text.trimEnd().split('\n').map((line) => JSON.parse(line)));
    expect(whole).toMatchObject({ size: bytes.length, keep: bytes.length, unterminated: false });
    const counts: Record<string, number> = {};
    for (const event of whole.events) counts[event.ev] = (counts[event.ev] ?? 0) + 1;
    expect(counts).toEqual({ header: 1, submitting: jobs, submitted: jobs, status: jobs + jobs / 10, succeeded: (jobs * 9) / 10, downloaded: (jobs * 9) / 10, failed: jobs / 10 });

    // Odd chunk sizes split lines and multi-byte characters anywhere.
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; at += 4_099) chunks.push(bytes.subarray(at, at + 4_099));
    expect(replayAll(chunks).events).toEqual(whole.events);
    const tiny = Array.from(bytes.subarray(0, 3_000), (byte) => Uint8Array.of(byte));
    expect(replayAll(tiny).events).toEqual(replayAll([bytes.subarray(0, 3_000)]).events);

    // One buffer refilled for every chunk, as the file reader does: nothing may point into an old chunk.
    const refilled = function* (): Generator<Uint8Array> {
      const buffer = Buffer.alloc(4_099);
      for (let at = 0; at < bytes.length; at += buffer.length) yield buffer.subarray(0, bytes.copy(buffer, 0, at, at + buffer.length));
    };
    expect(replayAll(refilled()).events).toEqual(whole.events);
  });

  it('keeps no events of its own: each is handed over as it is read', () => {
    const seen: string[] = [];
    const replayed = replayJournal([Buffer.from(lines(header, submitting(1), submitted(1)))], file, (e) => seen.push(e.ev));
    expect(seen).toEqual(['header', 'submitting', 'submitted']);
    expect(replayed).not.toHaveProperty('events');
    expect(replayed).toMatchObject({ records: 3, first: header });
  });

  it('checks well-formed lines without a zod parse, and sends any other line to zod for its message', () => {
    const { text } = bigJournal();
    const parse = vi.spyOn(journalEventSchema, 'safeParse');
    try {
      expect(replayAll([Buffer.from(text)]).events).toHaveLength(20_001);
      expect(parse).not.toHaveBeenCalled();
      const bad = { ...submitted(1, 5), attempt: 0 };
      const error = stateErrorOf(() => replayAll([Buffer.from(text + lines(bad, submitted(2)))]));
      expect(parse).toHaveBeenCalledTimes(1);
      expect(error.message).toContain('line 20002: the "submitted" event is invalid (`attempt`: Too small');
    } finally {
      parse.mockRestore();
    }
  });

  it('folds into job states that all have the same fields in the same order, whatever happened to each job', () => {
    const { text } = bigJournal();
    const folded = new JournalState();
    replayJournal([Buffer.from(text)], file, folded.add);
    const shapes = new Set([...folded.states.values()].map((state) => Object.keys(state).join()));
    expect(shapes.size).toBe(1);
  });

  it('reports the torn line and the bytes to keep', () => {
    const good = lines(header, submitted(1));
    const replayed = replayJournal([Buffer.from(good + '\n{"t":3,"ev"')], file);
    expect(replayed).toMatchObject({ keep: Buffer.byteLength(good), torn: { line: 4 }, unterminated: false });
  });
});
