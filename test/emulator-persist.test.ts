// The emulator's task file: an emulator started again on it knows the tasks of the one before.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../src/emulator/index.js';
import { body, create, get } from './helpers/emulator.js';
import { tempTree } from './helpers/manifest.js';

describe('emulator tasksFile', () => {
  it('keeps tasks across a restart: found by task id and external id, duplicates refused, new ids never reused', async () => {
    const tasksFile = join(tempTree(), 'tasks.jsonl');
    const first = await startEmulator({ tasksFile, timeScale: 0.001 });
    const made = await create(first, body({ external_task_id: 'kept-1' }));
    const taskId = made.json.data.task_id as string;
    await first.close();

    const second = await startEmulator({ tasksFile, timeScale: 0.001 });
    try {
      expect((await get(second, taskId)).json.data).toMatchObject({ task_id: taskId, task_info: { external_task_id: 'kept-1' } });
      expect((await get(second, 'kept-1')).json.data.task_id).toBe(taskId);
      // A duplicate of a task the first emulator made is refused like any duplicate.
      expect((await create(second, body({ external_task_id: 'kept-1' }))).json.code).toBe(1201);
      const next = await create(second, body({ external_task_id: 'kept-2' }));
      expect(next.json.data.task_id).not.toBe(taskId);
      expect(next.json.data.task_id.slice(0, 6)).toBe(taskId.slice(0, 6));
    } finally {
      await second.close();
    }
    const lines = readFileSync(tasksFile, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3); // header and two tasks
    expect(lines.join('\n')).not.toContain('emulator-key'); // an account is kept as a hash of its key
  });

  it("keeps each account's tasks to its own key, across a restart with other keys too", async () => {
    const tasksFile = join(tempTree(), 'tasks.jsonl');
    const first = await startEmulator({ tasksFile, keys: ['key-a', 'key-b'] });
    const a = await create(first, body({ external_task_id: 'of-a' }), 'key-a');
    await first.close();
    const second = await startEmulator({ tasksFile, keys: ['key-b'] });
    try {
      expect((await get(second, 'of-a', 'key-b')).json.code).not.toBe(0);
      // Numbering goes on after every task of the file, the unreachable account's included.
      const b = await create(second, body({ external_task_id: 'of-b' }), 'key-b');
      expect(b.json.data.task_id).not.toBe(a.json.data.task_id);
    } finally {
      await second.close();
    }
  });

  it('drops a last line cut by a crash, and refuses a damaged file with a message naming it', async () => {
    const dir = tempTree();
    const tasksFile = join(dir, 'tasks.jsonl');
    const first = await startEmulator({ tasksFile });
    await create(first, body({ external_task_id: 'a' }));
    await first.close();
    appendFileSync(tasksFile, '{"taskId":"12');
    const second = await startEmulator({ tasksFile });
    expect((await get(second, 'a')).json.code).toBe(0);
    // The next task's line starts a line of its own: a third start reads the file whole.
    await create(second, body({ external_task_id: 'b' }));
    await second.close();
    const third = await startEmulator({ tasksFile });
    expect((await get(third, 'a')).json.code).toBe(0);
    expect((await get(third, 'b')).json.code).toBe(0);
    await third.close();

    await expect(startEmulator({ tasksFile: join(dir, 'no-such-folder', 'tasks.jsonl') })).rejects.toThrow(/^Cannot write the emulator's task file .*no-such-folder\/tasks\.jsonl: ENOENT.*Check that its folder exists/);

    const broken = join(dir, 'broken.jsonl');
    writeFileSync(broken, 'not json\n{"emulator_tasks":1,"prefix":"123456"}\n');
    await expect(startEmulator({ tasksFile: broken })).rejects.toThrow(/broken\.jsonl, line 1: it is not JSON\. It is the built-in emulator's record of its tasks; delete it/);
  });
});
