// Start-up stays cheap because each command is its own chunk of the build, loaded when it runs:
// what `klingrun --version` loads (dist/cli.js and its static imports) holds no dependency but the
// "did you mean" one and no command, and `validate` does not load the runner, the emulator or the
// report writers. The time itself is measured by `npm run bench -- startup`, not asserted here.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startupResult } from '../bench/startup.js';
import { DIST } from '../scripts/build.js';

/** Every output file `file` loads before it runs (static imports, transitively). */
function staticClosure(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  for (const [, target] of readFileSync(file, 'utf8').matchAll(/^(?:import|export)\b[^;'"]*?["'](\.\/[^"']+)["']/gm)) {
    staticClosure(join(dirname(file), target as string), seen);
  }
  return seen;
}

/** The source modules and packages bundled into some files (esbuild heads each with a `// path` comment). */
function modulesIn(files: Iterable<string>): string[] {
  const modules = new Set<string>();
  for (const file of files) {
    for (const [, path] of readFileSync(file, 'utf8').matchAll(/^\/\/ (src\/\S+|node_modules\/(?:@[^/]+\/)?[^/]+)/gm)) modules.add(path as string);
  }
  return [...modules].sort();
}

/** The chunk of one command: the file dist/cli.js imports for it. */
function commandChunk(name: string): string {
  const chunk = new RegExp(`import\\("\\./(${name}-[A-Z0-9]+\\.js)"\\)`).exec(readFileSync(join(DIST, 'cli.js'), 'utf8'))?.[1];
  if (!chunk) throw new Error(`dist/cli.js does not import a chunk for ${name}`);
  return join(DIST, chunk);
}

describe('the built CLI', () => {
  it('loads for --version and --help no dependency but fastest-levenshtein, and no command', () => {
    const modules = modulesIn(staticClosure(join(DIST, 'cli.js')));
    expect(modules.filter((m) => m.startsWith('node_modules/'))).toEqual(['node_modules/fastest-levenshtein']);
    expect(modules.filter((m) => /^src\/(cli\/commands\/(?!index)|runner|emulator|report|plan|manifest\/(?!suggest)|state|data)/.test(m))).toEqual([]);
  });

  it('loads for validate neither the runner, the emulator, the journal nor the report writers', () => {
    const modules = modulesIn(staticClosure(commandChunk('validate')));
    expect(modules).toContain('src/cli/commands/validate.ts');
    // state/output-folder.ts is only where the folder is (plan names it in a note): no journal, no lock.
    expect(modules.filter((m) => /^src\/(runner|emulator|state\/(?!output-folder))\/?|^src\/report\/(?!schema|read\.ts)|^node_modules\/(cli-progress|p-retry)$/.test(m))).toEqual([]);
  });

  it('has a start-up bench case that measures both commands against bare node', () => {
    const result = startupResult(1);
    expect(result.metrics.map((m) => m.name)).toEqual(["--version ÷ node -e ''", "validate example ÷ node -e ''"]);
    for (const metric of result.metrics) expect(Number.isFinite(metric.value) && metric.value > 0).toBe(true);
  });
});
