// `klingrun validate <manifest>…`: every check `plan` makes (schema, matrix, images, model rules),
// for several manifests at once; one summary line per valid manifest, the errors of the others.
import { resolve } from 'node:path';
import { loadModelTable } from '../../data/tables.js';
import { InputError, ManifestError, UsageError } from '../../errors.js';
import { loadPlan } from '../../plan/index.js';
import { frameOf, type Plan } from '../../plan/schema.js';
import { variantKey } from '../../plan/variants.js';
import { stringOption } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { formatError } from '../format-error.js';
import { defineCommand } from '../io.js';
import { MODELS_OPTION } from '../common-options.js';
import { egressNotes } from '../egress.js';
import { reportWarnings } from './plan.js';

const USAGE = 'klingrun validate <manifest>… [options]';

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** `8 jobs from 2 entries (2 images, 4 variants)`. */
export function describePlan(plan: Plan): string {
  const images = new Set(plan.jobs.map((j) => frameOf(j.request)).map((image) => (image.kind === 'file' ? image.sha256 : image.url)));
  const variants = new Set(plan.jobs.map(variantKey));
  const entries = new Set(plan.jobs.map((j) => j.entry));
  return `${count(plan.jobs.length, 'job')} from ${count(entries.size, 'entry', 'entries')} (${count(images.size, 'image')}, ${count(variants.size, 'variant')})`;
}

export const validateCommand = defineCommand({
  usage: USAGE,
  options: { models: MODELS_OPTION },
  examples: [
    { command: 'klingrun validate jobs/*.yaml', description: 'check every manifest in jobs/' },
    { command: 'klingrun validate jobs/sweep.yaml --models my-models.yaml', description: 'check against your own model capability table' },
  ],
  async run(args, io) {
    if (args.positionals.length === 0) throw new UsageError(`Name at least one manifest. Usage: ${USAGE}`);
    const modelsFile = stringOption(args, 'models');
    const models = loadModelTable(modelsFile === undefined ? undefined : resolve(io.cwd, modelsFile));
    let failed = 0;
    for (const manifestPath of args.positionals) {
      try {
        // Prices play no part in validity: an empty table skips reading it.
        const { plan, manifestDir } = await loadPlan(manifestPath, { cwd: io.cwd, models, prices: [] });
        reportWarnings(plan, manifestPath, io, (await egressNotes(plan.jobs, manifestDir, io.cwd)).sentences);
        io.stdout(`${manifestPath}: valid, ${describePlan(plan)}\n`);
      } catch (error) {
        if (!(error instanceof ManifestError || error instanceof InputError)) throw error;
        failed += 1;
        io.stderr(`${formatError(error)}\n`);
      }
    }
    return failed ? EXIT.badInput : EXIT.ok;
  },
});
