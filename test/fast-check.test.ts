// The journal's replay checks well-formed events with plain code compiled from their zod schema
// (state/fast-check.ts). It must never say yes where zod says no: every event kind, mutated at
// every place in every way a damaged or hand-edited line could be, is put to both.
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { journalEventSchema, type JournalEvent } from '../src/state/events.js';
import { compileFastCheck } from '../src/state/fast-check.js';

const job = 'ab'.repeat(32);
const file = { kind: 'file', path: 'images/a.png', sha256: 'cd'.repeat(32), bytes: 1234, width: 640, height: 480 } as const;

/** One event of every kind, with every optional field somewhere. */
const EVERY_EVENT: readonly JournalEvent[] = [
  { t: 1, ev: 'header', version: 1, name: 'demo', tool_version: '0.1.0' },
  { t: 2, ev: 'run', pid: 42, manifest_sha256: 'x', argv: ['run', 'm.yaml'] },
  {
    t: 3,
    ev: 'submitting',
    job,
    attempt: 1,
    external_task_id: 'kr-1',
    request: {
      model_name: 'kling-v1',
      mode: 'pro',
      duration: '10',
      prompt: 'a café, 朝',
      negative_prompt: 'blur',
      cfg_scale: 0.5,
      sound: 'off',
      callback_url: 'https://cb.example/x',
      image: file,
      static_mask: { kind: 'url', url: 'https://x/m.png' },
      dynamic_masks: [{ mask: file, trajectories: [{ x: 1, y: -2 }, { x: 3, y: 4 }] }],
    },
    path: 'videos/a.mp4',
    cost_usd: null,
  },
  { t: 4, ev: 'submitting', job, attempt: 2, external_task_id: 'kr-1-a2', request: { image: { kind: 'url', url: 'https://x/a.png' }, image_tail: file }, cost_usd: 0.35 },
  { t: 5, ev: 'submitted', job, attempt: 1, task_id: '77', created_at: 4.5 },
  { t: 6, ev: 'rejected', job, attempt: 1, code: 1302, message: 'slow down', retryable: true },
  { t: 7, ev: 'adopted', job, attempt: 1, task_id: '77', via: 'lookup', external_task_id: 'kr-1', created_at: 5 },
  { t: 8, ev: 'unconfirmed', job, attempt: 1, external_task_id: 'kr-1', message: 'not found' },
  { t: 9, ev: 'status', job, task_id: '77', task_status: 'processing' },
  { t: 10, ev: 'succeeded', job, task_id: '77', videos: [{ id: 'v', url: 'https://cdn/v.mp4', duration: '5' }], finished_at: 9, units: 2.5 },
  { t: 11, ev: 'downloaded', job, path: 'videos/a.mp4', sha256: job, bytes: 0, mtime_ms: 10.5, duration_s: 5.04, width: 1280, height: 720, warnings: ['w'], invalid: false },
  { t: 12, ev: 'download_failed', job, message: 'disk full' },
  { t: 13, ev: 'failed', job, attempt: 1, code: 'x', message: 'risk control', retriable: false },
  { t: 14, ev: 'timed_out', job, attempt: 1, task_id: '77' },
  { t: 15, ev: 'lost', job, attempt: 1, task_id: '77', message: 'gone' },
  { t: 16, ev: 'orphaned', job, attempt: 1, external_task_id: 'kr-1', message: 'duplicate' },
  { t: 17, ev: 'skipped_budget', job, cost_usd: null, attempt: 2 },
];

/** What a damaged or hand-edited value could hold in place of any other. */
const REPLACEMENTS: readonly unknown[] = [null, 0, -1, 1.5, 2 ** 53, '', 'x', 'AB'.repeat(32), 'ab'.repeat(31), '0', true, false, [], [1], {}, { kind: 'url' }, 'on', 'url', 'file', 'lookup'];

/** Every value one change away from `value`: a leaf replaced, a key dropped or added, an element dropped or added. */
function* mutations(value: unknown): Generator<unknown> {
  for (const replacement of REPLACEMENTS) yield replacement;
  if (Array.isArray(value)) {
    yield [...value, value[0] ?? 'x'];
    for (let i = 0; i < value.length; i++) {
      yield value.filter((_, k) => k !== i);
      for (const inner of mutations(value[i])) yield value.map((item, k) => (k === i ? inner : item));
    }
  } else if (typeof value === 'object' && value !== null) {
    const object = value as Record<string, unknown>;
    yield { ...object, extra: 1 };
    yield JSON.parse(`{"__proto__": {"x": 1}, ${JSON.stringify(object).slice(1)}`);
    for (const key of Object.keys(object)) {
      const { [key]: _dropped, ...rest } = object;
      yield rest;
      for (const inner of mutations(object[key])) yield { ...object, [key]: inner };
    }
  }
}

describe('the compiled check of journal events', () => {
  const isEvent = compileFastCheck(journalEventSchema);

  it('compiles, and says yes to every kind of event the runner writes', () => {
    expect(isEvent).toBeTypeOf('function');
    for (const event of EVERY_EVENT) {
      expect(journalEventSchema.parse(event)).toEqual(event);
      expect(isEvent?.(JSON.parse(JSON.stringify(event))), event.ev).toBe(true);
    }
  });

  it('never says yes where zod says no, or where zod would hand back something else', () => {
    let yes = 0;
    let no = 0;
    for (const event of EVERY_EVENT) {
      for (const mutant of mutations(event)) {
        if (!isEvent?.(mutant)) {
          no += 1;
          continue;
        }
        yes += 1;
        const parsed = journalEventSchema.safeParse(mutant);
        expect(parsed.success, JSON.stringify(mutant)).toBe(true);
        expect(parsed.data).toEqual(mutant);
      }
    }
    // Both answers are exercised: mutations of optional text stay valid, most others do not.
    expect(yes).toBeGreaterThan(100);
    expect(no).toBeGreaterThan(1_000);
  });
});

describe('compileFastCheck', () => {
  it('follows the schema: regex (even with the g flag), safe integers, bounds, enums, literals, nullable, unions', () => {
    const check = compileFastCheck(
      z.strictObject({
        id: z.string().regex(/^[0-9a-f]{4}$/g),
        n: z.number().int().positive(),
        r: z.number().nonnegative().optional(),
        e: z.enum(['a', 'b']),
        l: z.literal(7),
        u: z.union([z.number(), z.string()]).nullable(),
      }),
    );
    const ok = { id: 'beef', n: 1, e: 'a', l: 7, u: null };
    expect(check?.(ok)).toBe(true);
    expect(check?.(ok)).toBe(true); // a g-flag pattern's lastIndex must not carry over
    for (const bad of [{ ...ok, id: 'BEEF' }, { ...ok, n: 0 }, { ...ok, n: 1.5 }, { ...ok, n: 2 ** 53 }, { ...ok, r: -1 }, { ...ok, e: 'c' }, { ...ok, l: 8 }, { ...ok, u: true }, { ...ok, x: 1 }, [ok]]) {
      expect(check?.(bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it('leaves to zod what it does not compile: refinements, transforms, length limits, objects that strip keys', () => {
    expect(compileFastCheck(z.string().refine((s) => s !== 'x'))).toBeUndefined();
    expect(compileFastCheck(z.string().transform((s) => s.length))).toBeUndefined();
    expect(compileFastCheck(z.string().min(2))).toBeUndefined();
    expect(compileFastCheck(z.array(z.string()).max(2))).toBeUndefined();
    expect(compileFastCheck(z.object({ a: z.string() }))).toBeUndefined();
    expect(compileFastCheck(z.coerce.number())).toBeUndefined();
    // In a discriminated union, only the option that does not compile is left to zod.
    const union = compileFastCheck(z.discriminatedUnion('k', [z.strictObject({ k: z.literal('a') }), z.strictObject({ k: z.literal('b'), s: z.string().min(1) })]));
    expect(union?.({ k: 'a' })).toBe(true);
    expect(union?.({ k: 'b', s: 'x' })).toBe(false);
  });
});
