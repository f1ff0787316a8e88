// The emulator's tasks kept in a file, one JSON line per created task (tasks never change once
// created: their whole future is fixed then), so an emulator started again on the same file knows
// the tasks of the one before. `run --emulator` keeps it in the output folder: an interrupted demo
// resumes as it would against the real service, instead of polling tasks nobody has any more.
// A task's account is kept as a hash of its key: a key someone gave the emulator may be a real one.
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, truncateSync } from 'node:fs';
import { z } from 'zod';
import { InputError, StateError } from '../errors.js';
import type { TaskRecord } from './tasks.js';

const headerSchema = z.strictObject({ emulator_tasks: z.literal(1), prefix: z.string().regex(/^\d{6}$/) });
const taskSchema = z.strictObject({
  taskId: z.string(),
  key_sha256: z.string(),
  externalTaskId: z.string().optional(),
  duration: z.string(),
  createdAt: z.number(),
  processingAt: z.number(),
  endAt: z.number(),
  failure: z.string().optional(),
  priceMicroUsd: z.number(),
});

export interface SavedTasks {
  /** The task id prefix of the emulator that made them: ids stay unique across restarts. */
  readonly prefix: string;
  /** Tasks ever created under that prefix (the next one's number follows), other accounts' included. */
  readonly created: number;
  readonly tasks: TaskRecord[];
}

const keyHash = (key: string): string => createHash('sha256').update(key).digest('hex');

/** The saved tasks of the accounts of `keys` (others cannot be reached), or undefined when the file does not exist yet. */
export function loadTasks(file: string, keys: readonly string[]): SavedTasks | undefined {
  const byHash = new Map(keys.map((key) => [keyHash(key), key]));
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InputError('input_invalid', `Cannot read the emulator's task file ${file}: ${(error as Error).message}.`, { cause: error });
  }
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const bad = (line: number, why: string) =>
    new InputError('input_invalid', `${file}, line ${line}: ${why}. It is the built-in emulator's record of its tasks; delete it to start the emulator afresh (its tasks are then gone).`);
  const parse = <T>(schema: z.ZodType<T>, index: number): T => {
    let value: unknown;
    try {
      value = JSON.parse(lines[index] as string);
    } catch {
      // A line cut by a crash mid-write: the task it named is lost, as a crashed provider would
      // lose it. Cut off the file too, so the next task's line does not land after it.
      if (index === lines.length - 1 && index > 0) {
        truncateSync(file, Buffer.byteLength(text.slice(0, text.lastIndexOf(lines[index] as string))));
        return undefined as T;
      }
      throw bad(index + 1, 'it is not JSON');
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw bad(index + 1, 'it is not an emulator task record');
    return parsed.data;
  };
  const header = parse(headerSchema, 0);
  const tasks = lines.slice(1).flatMap((_, i) => {
    const saved = parse(taskSchema, i + 1);
    const key = saved && byHash.get(saved.key_sha256);
    if (!saved || key === undefined) return [];
    const { key_sha256: _hash, ...task } = saved;
    return [{ ...task, key, externalTaskId: task.externalTaskId, failure: task.failure }];
  });
  return { prefix: header.prefix, created: lines.length - 1, tasks };
}

function appendRecord(file: string, record: object): void {
  try {
    appendFileSync(file, `${JSON.stringify(record)}\n`);
  } catch (cause) {
    throw new StateError('output_unwritable', `Cannot write the emulator's task file ${file}: ${(cause as Error).message}. Check that its folder exists and can be written to.`, { cause });
  }
}

/** Starts a task file (its header) for an emulator whose ids start with `prefix`. */
export function startTaskFile(file: string, prefix: string): void {
  appendRecord(file, { emulator_tasks: 1, prefix });
}

/** Records one created task, before the create is answered: the file never lacks a task a client was told of. */
export function saveTask(file: string, task: TaskRecord): void {
  const { link: _link, key, ...record } = task;
  appendRecord(file, { ...record, key_sha256: keyHash(key) });
}
