// The package as a user gets it: `npm pack` in a copy of the sources (its `prepack` builds dist/),
// the tarball installed offline into an empty project (and globally with --prefix), then the CLI
// and the README's library example run there with plain `node`: no tsx, no TypeScript, no
// repository around them.
import { type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../src/cli/commands/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string> };

/** Never copied: what a clone does not have before `npm install`, or what is not source. */
const NOT_SOURCE = new Set(['node_modules', 'dist', 'output', '.git']);

let work: string;
let consumer: string;
let packed: { filename: string; files: { path: string }[] };

/** A clean environment: nothing of the test runner's loaders, keys or debug switches. */
function env(): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(COMETAPI_|KLINGRUN_|NODE_OPTIONS$|VITEST|npm_)/.test(name)) clean[name] = value;
  }
  return clean;
}

function sh(command: string, args: readonly string[], cwd: string): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, env: env(), encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

/**
 * The consumer's lockfile: the tarball plus our own lockfile's production entries, so `npm ci
 * --offline` installs from the local npm cache (an offline `npm install` would need registry
 * metadata the cache does not hold).
 */
function consumerLock(tarball: string): unknown {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const production = Object.entries(lock.packages).filter(([path, entry]) => path.startsWith('node_modules/') && !entry.dev);
  return {
    name: 'consumer',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'consumer', dependencies: { klingrun: `file:${tarball}` } },
      'node_modules/klingrun': { version: PKG.version, resolved: `file:${tarball}`, dependencies: PKG.dependencies, bin: { klingrun: 'bin/klingrun.js' } },
      ...Object.fromEntries(production),
    },
  };
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'klingrun-package-'));
  // A copy of the sources, so the build `npm pack` runs cannot disturb the suite's own dist/.
  const source = join(work, 'klingrun');
  cpSync(ROOT, source, { recursive: true, filter: (path) => !NOT_SOURCE.has(relative(ROOT, path).split('/')[0] ?? '') });
  symlinkSync(join(ROOT, 'node_modules'), join(source, 'node_modules'));
  packed = (JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', work], source).stdout) as (typeof packed)[])[0] as typeof packed;

  consumer = join(work, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { klingrun: `file:../${packed.filename}` } }));
  writeFileSync(join(consumer, 'package-lock.json'), JSON.stringify(consumerLock(`../${packed.filename}`)));
  sh('npm', ['ci', '--offline', '--no-audit', '--no-fund'], consumer);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

const bin = () => join(consumer, 'node_modules/.bin/klingrun');

/** Illustrations, not files: names the docs use in sample output. */
const NOT_FILES = new Set(['jobs/portraits.yaml']);

/** Every `jobs/…`, `docs/…` and `examples/…` path a text names (globs and folders too), not as part of a longer path. */
const pathsIn = (text: string): string[] => [...text.matchAll(/(?<![\w./-])(?:jobs|docs|examples)\/[\w./*{}-]*[\w/*}]/g)].map((m) => m[0]);

/** Whether the packed files hold `named`: the file, a file in the folder, or a file the glob matches. */
function shipped(files: readonly string[], named: string): boolean {
  if (named.endsWith('/')) return files.some((file) => file.startsWith(named));
  if (!/[*{]/.test(named)) return files.includes(named);
  const pattern = new RegExp(`^${named.replace(/[.]/g, '\\.').replace(/\{([^}]*)\}/g, (_, alts: string) => `(${alts.split(',').join('|')})`).replace(/\*/g, '[^/]*')}$`);
  return files.some((file) => pattern.test(file));
}

/** Runs the starter project `klingrun init` wrote in `project` against the emulator, from `cwd`; its videos. */
function runStarter(klingrun: string, project: string, cwd: string): string[] {
  sh(klingrun, ['run', relative(cwd, join(project, 'klingrun.yaml')) || 'klingrun.yaml', '--emulator', '--yes'], cwd);
  const videos = join(project, 'output/starter/videos');
  return readdirSync(videos, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.mp4'));
}

describe('the packed tarball', () => {
  it('holds the built code, its types, data and docs, and no tests, fixtures, benchmarks or sources', () => {
    const files = packed.files.map((f) => f.path);
    for (const needed of ['bin/klingrun.js', 'dist/cli.js', 'dist/index.js', 'dist/index.d.ts', 'dist/data/models.yaml', 'dist/data/prices.yaml', 'dist/emulator/assets/video-5s.mp4', 'dist/emulator/assets/video-10s.mp4', 'schemas/manifest.schema.json', 'schemas/report.schema.json', 'examples/library.mjs', 'jobs/example.yaml', 'docs/api.md', 'README.md', 'CHANGELOG.md', 'LICENSE', 'package.json']) {
      expect(files, needed).toContain(needed);
    }
    expect(files.filter((f) => /^(test|bench|scripts|output)\//.test(f) || /^src\/.*\.ts$/.test(f) || f.includes('fixtures'))).toEqual([]);
  });

  it('ships every jobs/, docs/ and examples/ path that the README, the docs and every command\'s --help name', () => {
    const files = packed.files.map((f) => f.path);
    const texts = [
      ...['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)].map((file) => ({ where: file, text: readFileSync(join(ROOT, file), 'utf8') })),
      ...commands.map((command) => ({ where: `klingrun help ${command.name}`, text: sh(bin(), ['help', command.name], consumer).stdout })),
    ];
    const named = texts.flatMap(({ where, text }) => pathsIn(text).map((path) => ({ where, path })));
    expect(named.map((n) => n.path)).toEqual(expect.arrayContaining(['jobs/sweep.yaml', 'jobs/dataset.yaml', 'jobs/data/clips.csv', 'docs/gallery.png', 'examples/library.mjs']));
    const missing = named.filter(({ path }) => !NOT_FILES.has(path) && !shipped(files, path)).map(({ where, path }) => `${path} (named in ${where})`);
    expect([...new Set(missing)]).toEqual([]);
  });

  it('declares no install script, so installing it runs nothing', () => {
    // npm lists preinstall, install, postinstall and prepare as install scripts (prepare too, on a
    // tarball) and warns about each one on every install; the tarball is built already.
    const installed = JSON.parse(readFileSync(join(consumer, 'node_modules/klingrun/package.json'), 'utf8')) as { scripts?: Record<string, string> };
    expect(Object.keys(installed.scripts ?? {}).filter((name) => ['preinstall', 'install', 'postinstall', 'prepare'].includes(name))).toEqual([]);
  });

  it('installs without tsx or TypeScript, and prints its version and help', () => {
    expect(existsSync(join(consumer, 'node_modules/tsx'))).toBe(false);
    expect(existsSync(join(consumer, 'node_modules/typescript'))).toBe(false);
    expect(sh(bin(), ['--version'], consumer).stdout).toBe(`${PKG.version}\n`);
    expect(sh(bin(), ['--help'], consumer).stdout).toContain('Usage: klingrun <command> [options]');
    expect(sh(bin(), ['help', 'run'], consumer).stdout).toContain('--emulator');
  });

  it('runs the demo against the emulator from an empty folder, offline', () => {
    const elsewhere = mkdtempSync(join(work, 'elsewhere-'));
    const manifest = join(consumer, 'node_modules/klingrun/jobs/example.yaml');
    expect(sh(bin(), ['validate', manifest], elsewhere).stdout).toContain('valid, 8 jobs');
    sh(bin(), ['run', manifest, '--emulator', '--yes'], elsewhere);
    const report = JSON.parse(readFileSync(join(elsewhere, 'output/example/report.json'), 'utf8')) as { tool: { version: string }; totals: { succeeded: number } };
    expect(report.tool.version).toBe(PKG.version);
    expect(report.totals.succeeded).toBe(8);
  });

  it('runs `klingrun emulate` until Ctrl-C', async () => {
    const child = spawn(bin(), ['emulate', '--time-scale', '0.01'], { cwd: consumer, env: env() });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Press Ctrl-C to stop.')) child.kill('SIGINT');
    });
    const code = await new Promise((resolve) => child.once('close', resolve));
    expect(output).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(output).toContain('Emulator stopped: 0 task(s) created');
    expect(code).toBe(0);
  });

  it("runs the README's library example with plain node", () => {
    // The example as a user's own file, next to their own copy of the manifest.
    const shipped = join(consumer, 'node_modules/klingrun');
    cpSync(join(shipped, 'examples/library.mjs'), join(consumer, 'library.mjs'));
    cpSync(join(shipped, 'jobs'), join(consumer, 'jobs'), { recursive: true });
    const { stdout } = sh(process.execPath, ['library.mjs'], consumer);
    expect(stdout).toMatch(/^example: 8 jobs\n8 to submit, 0 under way\n8 of 8 succeeded, \$\d+\.\d\d; first video: videos\/\S+\.mp4\n$/);
  });

  it('gives a TypeScript user the types', () => {
    writeFileSync(
      join(consumer, 'check.ts'),
      [
        "import { loadPlan, readReport, type Report, type LoadedPlan, ManifestError } from 'klingrun';",
        "const loaded: Promise<LoadedPlan> = loadPlan('jobs/example.yaml');",
        "const report: Report | undefined = readReport('output');",
        'const succeeded: number | undefined = report?.totals.succeeded;',
        "// @ts-expect-error: a plan has no such field, so the types are real, not any",
        'void loaded.then((l) => l.plan.nope);',
        'export { succeeded, ManifestError };',
      ].join('\n'),
    );
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const args = ['--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--typeRoots', join(ROOT, 'node_modules/@types'), '--types', 'node', 'check.ts'];
    sh(process.execPath, [tsc, ...args], consumer);
  });
});

describe('klingrun init, from the installed tarball', () => {
  it('writes a starter project that runs as is against the emulator, into the project\'s output/ from any folder', () => {
    const project = mkdtempSync(join(work, 'starter-'));
    const { stdout } = sh(bin(), ['init'], project);
    expect(stdout).toContain('klingrun run klingrun.yaml --emulator --yes');
    // Edit nothing; run it from a folder inside the project: the output is the project's all the same.
    expect(runStarter(bin(), project, join(project, 'images'))).toHaveLength(4);
    expect(existsSync(join(project, 'images/output'))).toBe(false);
    const again = spawnSync(bin(), ['init'], { cwd: project, env: env(), encoding: 'utf8' });
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('klingrun.yaml, data/clips.csv, .gitignore, images/harbor.png, images/meadow.jpg');
  });
});

describe('a global install with --prefix, as the README says', () => {
  it('installs the command in <prefix>/bin with no warning about scripts, and it runs from there', () => {
    const prefix = join(work, 'prefix');
    // --prefer-offline: the dependencies come from npm's cache when it holds them.
    const install = sh('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(work, packed.filename)], work);
    const output = `${install.stdout}${install.stderr}`;
    expect(output).not.toMatch(/install-scripts|prepare|allowScripts/);
    const klingrun = join(prefix, 'bin/klingrun');
    expect(sh(klingrun, ['--version'], work).stdout).toBe(`${PKG.version}\n`);
    const project = mkdtempSync(join(work, 'global-'));
    sh(klingrun, ['init'], project);
    expect(runStarter(klingrun, project, project)).toHaveLength(4);
  });
});
