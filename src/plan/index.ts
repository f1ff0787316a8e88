// The plan step as one call for the commands and the runner: read the manifest, validate it,
// read the tables it names, resolve and check its images, expand it into jobs. The pure pieces
// are exported beside it.
import { basename, dirname, resolve } from 'node:path';
import { loadModelTable, loadPriceTable, type ModelTable, type PriceTable } from '../data/tables.js';
import { InputError } from '../errors.js';
import { nodeFs, type ManifestFs } from '../manifest/fs.js';
import { imageSpecsOf, resolveImages } from '../manifest/images.js';
import { checkManifest, manifestError } from '../manifest/load.js';
import type { Manifest } from '../manifest/schema.js';
import { loadTables, tableImageSpecs } from '../manifest/table-rows.js';
import { expandManifest } from './expand.js';
import { sha256Hex } from './ids.js';
import type { Plan } from './schema.js';

export { expandManifest, type ExpandContext } from './expand.js';
export { checkManifest, parseManifest, type CheckedManifest, type ParsedManifest } from '../manifest/load.js';
export { imageSpecsOf, resolveImages, type ResolvedImages } from '../manifest/images.js';
export { loadTables, type TableEntry } from '../manifest/table-rows.js';
export { summarizePlan, priceJob, describeUnpriced, type CostRow, type CostSummary, type Tables } from './cost.js';
export { canonicalJson, externalTaskId, jobId } from './ids.js';
export { egressOf, localFiles, sendsMore, LISTED_FILES, type CallbackHost, type Egress, type OutsideFile } from './egress.js';
export type { ManifestFs } from '../manifest/fs.js';
export type { Manifest } from '../manifest/schema.js';

export interface LoadPlanOptions {
  /** Model capability table file. @default src/data/models.yaml */
  readonly modelsFile?: string | undefined;
  /** Price table file. @default src/data/prices.yaml */
  readonly pricesFile?: string | undefined;
  /** Already loaded tables (win over the files): commands that plan several manifests load them once. */
  readonly models?: ModelTable | undefined;
  readonly prices?: PriceTable | undefined;
  /** File access. @default node:fs with fast-glob */
  readonly fs?: ManifestFs | undefined;
  /** Folder a relative manifest path is resolved against. @default process.cwd() */
  readonly cwd?: string | undefined;
}

export interface LoadedPlan {
  readonly manifest: Manifest;
  readonly plan: Plan;
  /** Absolute folder of the manifest: local image paths in the plan are relative to it. */
  readonly manifestDir: string;
  /** sha256 of the manifest file's bytes. */
  readonly manifestSha256: string;
  readonly models: ModelTable;
  readonly prices: PriceTable;
}

/**
 * The manifest with each entry that failed the schema made one that plans nothing and breaks no
 * rule: a `from:` entry without a read table (ExpandContext.tables: "an entry missing here had
 * problems, reported already"). Its own problems are reported; guesses about the rest are not.
 */
function withoutEntries(manifest: Manifest, bad: ReadonlySet<number>): Manifest {
  if (bad.size === 0) return manifest;
  return { ...manifest, jobs: manifest.jobs.map((entry, i) => (bad.has(i) ? { from: '', matrix: {} } : entry)) };
}

/**
 * Plans a manifest file. Throws ManifestError with every problem (schema, matrix, tables,
 * images, model rules) located in the manifest or its table, InputError when a file cannot be read.
 */
export async function loadPlan(manifestPath: string, options: LoadPlanOptions = {}): Promise<LoadedPlan> {
  const fs = options.fs ?? nodeFs;
  const absolute = resolve(options.cwd ?? process.cwd(), manifestPath);
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(absolute);
  } catch (cause) {
    throw new InputError('input_missing', `Cannot read the manifest ${manifestPath}: ${(cause as Error).message}. Check the path.`, { cause });
  }
  // Table files, like the manifest, are relative to the command's folder.
  const inCwd = (file: string | undefined) => (file === undefined ? undefined : resolve(options.cwd ?? process.cwd(), file));
  const models = options.models ?? loadModelTable(inCwd(options.modelsFile));
  const prices = options.prices ?? loadPriceTable(inCwd(options.pricesFile));
  const checked = checkManifest(Buffer.from(bytes).toString('utf8'), manifestPath);
  const { manifest, source } = checked;
  if (!manifest) throw manifestError([...checked.issues]);
  // Everything that can be checked is, whatever else failed: a user fixes a manifest in one round.
  const manifestDir = dirname(absolute);
  const { tables, issues: tableIssues } = await loadTables(manifest, source, { dir: manifestDir, fs, manifestFile: manifestPath });
  // A table's specs are made afresh each time they are read, never held: one per row, with a closure each.
  const manifestSpecs = imageSpecsOf(manifest, source);
  const specs = {
    *[Symbol.iterator]() {
      yield* manifestSpecs;
      for (const table of tables.values()) yield* tableImageSpecs(table);
    },
  };
  const { images, issues: imageIssues } = await resolveImages(specs, { dir: manifestDir, fs });
  const { plan, issues } = checked.rulesCheckable
    ? expandManifest(withoutEntries(manifest, checked.badEntries), { source, images, models, prices, manifestName: basename(absolute), tables })
    : { plan: undefined, issues: [] };
  const all = [...checked.issues, ...tableIssues, ...imageIssues, ...issues];
  // The manifest's own problems first, then each table's; nothing is planned while any row is bad.
  if (all.length || !plan) throw manifestError([...all.filter((i) => i.file === manifestPath), ...all.filter((i) => i.file !== manifestPath)]);
  return { manifest, plan, manifestDir, manifestSha256: sha256Hex(bytes), models, prices };
}
