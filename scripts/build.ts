// `npm run build`, also run by `prepack` (so `npm pack` ships it built; not `prepare`, which npm
// lists as an install script on every install of the tarball):
//   dist/cli.js, dist/index.js  the CLI and the library, bundled by esbuild into ES modules that
//                               share chunks (dist/chunk-*.js); each command is its own chunk,
//                               loaded only when it runs, so `klingrun --version` loads almost nothing
//   dist/data/*.yaml, dist/data/starter/, dist/emulator/assets/*.mp4  the data the code reads at
//                               run time (data/starter: what `klingrun init` writes)
//   dist/**/*.d.ts               the library's types (tsc), laid out like src/
// `--js` builds the JavaScript and the data only (about a second): the test suite does that first,
// so tests that start the CLI as a user would always run the current sources.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');
export const DIST = join(ROOT, 'dist');

/** Files read at run time next to the module that reads them (see sourceRelativeUrls). */
const ASSETS = ['data/models.yaml', 'data/prices.yaml', 'data/starter', 'emulator/assets'];

/**
 * Bundled code runs from dist/, not from its source file's folder, so `new URL('./models.yaml',
 * import.meta.url)` would miss. Every output file sits directly in dist/, so each module's
 * `import.meta.url` is replaced by the URL its source file would have in dist/ (src/data/tables.ts
 * → dist/data/tables.js), where the assets are copied.
 */
const sourceRelativeUrls: Plugin = {
  name: 'source-relative-import-meta-url',
  setup(builder) {
    builder.onLoad({ filter: /\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!args.path.startsWith(SRC) || !text.includes('import.meta.url')) return undefined;
      const asBuilt = `./${relative(SRC, args.path).split('\\').join('/').replace(/\.ts$/, '.js')}`;
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(asBuilt)}, import.meta.url).href`), loader: 'ts' };
    });
  },
};

/**
 * zod re-exports every one of its ~50 message locales as `z.locales`; klingrun uses none but the
 * default English one, and parsing the rest costs start-up time. This keeps `en` only.
 */
const englishOnlyZod: Plugin = {
  name: 'zod-english-only',
  setup(builder) {
    builder.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${join('node_modules', 'zod')}`) ? { path: join(dirname(args.importer), '../locales/en.js'), namespace: 'zod-locales' } : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({ contents: `export { default as en } from ${JSON.stringify(args.path)};`, resolveDir: dirname(args.path) }));
  },
};

/** Writes through a temp file and a rename, so a CLI started meanwhile never reads half a file. */
function writeAtomic(path: string, contents: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, contents);
  renameSync(temp, path);
}

/** Copies a file, or a folder's files, with writeAtomic. */
function copyAtomic(from: string, to: string): void {
  if (statSync(from).isDirectory()) for (const name of readdirSync(from)) copyAtomic(join(from, name), join(to, name));
  else writeAtomic(to, readFileSync(from));
}

/** The JavaScript and the data files. */
export async function buildJs(): Promise<void> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { cli: 'src/cli/main.ts', index: 'src/index.ts' },
    outdir: DIST,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Dependencies are bundled too: loading zod, yaml and fast-glob file by file from node_modules
    // took longer than the whole start-up budget (`npm run bench -- startup`). The banner gives
    // the CommonJS ones among them the `require` they expect.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    plugins: [sourceRelativeUrls, englishOnlyZod],
    write: false,
    logLevel: 'warning',
  });
  for (const file of result.outputFiles) writeAtomic(file.path, file.contents);
  for (const asset of ASSETS) copyAtomic(join(SRC, asset), join(DIST, asset));
}

/** Type declarations, laid out like src/, so dist/index.d.ts describes dist/index.js. */
function buildTypes(): void {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const jsOnly = process.argv.includes('--js');
  if (!jsOnly) rmSync(DIST, { recursive: true, force: true });
  await buildJs();
  if (!jsOnly) buildTypes();
}
