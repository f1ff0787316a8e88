import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emulateCommand } from '../src/cli/commands/emulate.js';
import type { CliIO } from '../src/cli/io.js';
import { parseOptions } from '../src/cli/options.js';
import { loadEmulatorConfig, startEmulator } from '../src/emulator/index.js';
import { resolveOptions } from '../src/emulator/options.js';
import { InputError, UsageError } from '../src/errors.js';
import { body, call, create, emulator, TASKS } from './helpers/emulator.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'klingrun-emulator-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('emulator options', () => {
  it('fills every default', () => {
    expect(resolveOptions({})).toEqual({
      profile: 'default', port: 0, host: '127.0.0.1', keys: ['emulator-key'], timeScale: 1, queueS: 5, processingS: 60, processingSByDuration: {},
      concurrency: 10, concurrencyPerModel: Infinity, noAccessModels: [], rpm: 600, balanceUsd: Infinity, unknownPriceUsd: 0.1, urlTtlS: 3600, staleUrlAnswer: 403, downloadStallS: 90, duplicateExternalId: 'reject',
      externalIdLookup: true, listSupported: true, lookupLagS: 0, listMaxPages: Infinity, foreignTasks: 0, failMarker: '[[moderate]]', rejectMarker: '[[reject]]', faults: [], seed: 1,
      lateCreateS: 100, numericTaskIds: false, inProgressStatus: ['submitted', 'processing'], createdAtUnit: 'ms', clockOffsetS: 0,
    });
  });

  it.each([
    [{ rpm: 0 }, /`rpm`.*>=1, got `0` \(number\)/],
    [{ timeScale: 0 }, /`timeScale`/],
    [{ duplicateExternalId: 'maybe' }, /`duplicateExternalId`/],
    [{ faults: [{ kind: 'flood' }] }, /`faults\.0\.kind`/],
    [{ faults: [{ kind: 'storm1303', on: ['download'] }] }, /storm1303.*cannot fire on download/],
    [{ faults: [{ kind: 'http500', p: 2 }] }, /`faults\.0\.p`/],
    [{ rpmm: 5 }, /Unknown emulator option.*`rpmm`/],
  ])('refuses %j with a message naming the option', (input, message) => {
    expect(() => resolveOptions(input)).toThrow(InputError);
    expect(() => resolveOptions(input)).toThrow(message);
  });

  it('never echoes a key in its messages', () => {
    expect(() => resolveOptions({ keys: 'sk-secret-123' })).toThrow(/`keys`/);
    expect(() => resolveOptions({ keys: 'sk-secret-123' })).not.toThrow(/sk-secret/);
  });

  it('loads a YAML file, with .inf for an unlimited limit', async () => {
    const path = await file('emu.yaml', 'rpm: .inf\nconcurrency: 3\nfaults:\n  - { kind: http500, p: 0.5, on: [get] }\n');
    const loaded = loadEmulatorConfig(path);
    expect(loaded).toEqual({ rpm: Infinity, concurrency: 3, faults: [{ kind: 'http500', p: 0.5, on: ['get'] }] });
    expect(resolveOptions(loaded).faults).toEqual([{ kind: 'http500', p: 0.5, on: ['get'] }]);
  });

  it('names the file in every problem with it', async () => {
    expect(() => loadEmulatorConfig(join(dir, 'none.yaml'), 'none.yaml')).toThrow(/Cannot read the emulator config file none\.yaml/);
    expect(() => loadEmulatorConfig(join(dir, 'none.yaml'))).toThrow(expect.objectContaining({ code: 'input_missing' }));
    const bad = await file('bad.yaml', 'rpm: [1,\n');
    expect(() => loadEmulatorConfig(bad, 'bad.yaml')).toThrow(/bad\.yaml is not valid YAML/);
    const typo = await file('typo.yaml', 'concurency: 3\n');
    expect(() => loadEmulatorConfig(typo, 'typo.yaml')).toThrow('Unknown emulator option `concurency` in typo.yaml. Did you mean `concurrency`?');
    const wrong = await file('wrong.yaml', 'rpm: fast\n');
    expect(() => loadEmulatorConfig(wrong, 'wrong.yaml')).toThrow(/`rpm` in wrong\.yaml/);
  });

  it('configure() validates the patch, keeps the options on failure, and refuses to move the port', async () => {
    const emu = await emulator({ rpm: 2 });
    expect(() => emu.configure({ rpm: -1 })).toThrow(/`rpm`/);
    expect(() => emu.configure({ port: 1234 })).toThrow(/`port` cannot change/);
    emu.configure({ rpm: undefined, concurrency: 1 }); // undefined leaves rpm as it was
    await call(emu, 'GET', TASKS);
    await call(emu, 'GET', TASKS);
    expect((await call(emu, 'GET', TASKS)).json.code).toBe(1302);
  });

  it('POST /__emulator/config applies a JSON patch like configure()', async () => {
    const emu = await emulator();
    const ok = await call(emu, 'POST', '/__emulator/config', { body: { concurrency: 1 }, key: null });
    expect(ok.json).toEqual({ ok: true });
    await create(emu, body());
    expect((await create(emu, body())).json.code).toBe(1303);
    const bad = await call(emu, 'POST', '/__emulator/config', { body: { concurrency: 'lots' }, key: null });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toContain('`concurrency`');
    const notJson = await call(emu, 'POST', '/__emulator/config', { body: 'nope', key: null });
    expect(notJson.status).toBe(400);
  });

  it('reports a port that is taken as an InputError naming it', async () => {
    const first = await emulator();
    const port = Number(new URL(first.url).port);
    await expect(startEmulator({ port })).rejects.toThrow(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}`));
  });
});

describe('klingrun emulate', () => {
  function run(argv: string[]) {
    const controller = new AbortController();
    let out = '';
    const io: CliIO = {
      stdout: (text) => {
        out += text;
      },
      stderr: (text) => {
        out += text;
      },
      env: {},
      cwd: dir,
      isTTY: false,
      confirm: async () => false,
      signal: controller.signal,
    };
    // Parsed as the CLI parses it: the options' rules are checked there, before the command runs.
    const exit = Promise.resolve().then(() => emulateCommand.run(parseOptions(emulateCommand.options, argv, {}), io));
    return { exit, stop: () => controller.abort(), output: () => out };
  }

  async function urlOf(cli: ReturnType<typeof run>): Promise<string> {
    for (let i = 0; i < 100; i++) {
      const url = /listening on (http:\/\/\S+)/.exec(cli.output())?.[1];
      if (url) return url;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`no URL printed: ${cli.output()}`);
  }

  it('serves with options from the file and the flags (flags win) until the signal fires', async () => {
    await file('emu.yaml', 'concurrency: 5\nrpm: 100\nkeys: [file-key]\n');
    const cli = run(['--config', 'emu.yaml', '--concurrency', '1', '--key', 'k1', '--key', 'k2', '--duplicate-external-id', 'accept']);
    const url = await urlOf(cli);
    expect(cli.output()).not.toContain('k1');
    expect(cli.output()).toContain('2 key(s) you configured (not shown)');
    const post = (key: string) =>
      fetch(`${url}${TASKS}`, { method: 'POST', headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body({ external_task_id: 'x' })) }).then((r) => r.json() as Promise<{ code: number }>);
    expect((await post('file-key')).code).toBe(1002);
    expect((await post('k1')).code).toBe(0);
    expect((await post('k1')).code).toBe(1303); // concurrency 1 from the flag, not 5 from the file
    expect((await post('k2')).code).toBe(0); // accept: a second task with the same external id
    cli.stop();
    expect(await cli.exit).toBe(0);
    expect(cli.output()).toContain('Emulator stopped: 2 task(s) created');
    await expect(fetch(url)).rejects.toThrow();
  });

  it('answers as the live service does with --profile live, or `profile: live` in the file', async () => {
    await file('live.yaml', 'profile: live\n');
    for (const argv of [['--profile', 'live'], ['--config', 'live.yaml']]) {
      const cli = run(argv);
      const url = await urlOf(cli);
      expect(cli.output()).toContain('(live profile: answers as the live service does)');
      const reply = await fetch(`${url}${TASKS}/999`, { headers: { Authorization: 'Bearer emulator-key' } });
      expect([reply.status, ((await reply.json()) as { code: number }).code]).toEqual([400, 1201]);
      cli.stop();
      expect(await cli.exit).toBe(0);
    }
  });

  it('prints the default key as a hint', async () => {
    const cli = run(['--time-scale', '0.001', '--no-external-id-lookup']);
    await urlOf(cli);
    expect(cli.output()).toContain('COMETAPI_KEY=emulator-key');
    cli.stop();
    expect(await cli.exit).toBe(0);
  });

  it.each([
    [['--rpm', '0'], /`--rpm` to be an integer >= 1/],
    [['--time-scale', '0'], /`--time-scale` to be a number > 0/],
    [['--duplicate-external-id', 'sometimes'], /`--duplicate-external-id` to be one of reject, return-existing, accept/],
    [['--profile', 'real'], /`--profile` to be one of default, live, got `real`/],
    [['extra'], /Unexpected argument `extra`/],
  ])('refuses %j as a usage error', async (argv, message) => {
    const cli = run(argv);
    await expect(cli.exit).rejects.toThrow(UsageError);
    await expect(cli.exit).rejects.toThrow(message);
  });

  it('refuses a broken config file naming it', async () => {
    await file('broken.yaml', 'faults: [{ kind: nope }]\n');
    const cli = run(['--config', 'broken.yaml']);
    await expect(cli.exit).rejects.toThrow(/`faults\.0\.kind` in broken\.yaml/);
  });
});
