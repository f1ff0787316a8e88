// `klingrun init [dir]`: a starter project a new user can run as is, then edit. The manifest sits
// at the project's top as klingrun.yaml (not jobs/…), so its runs go to output/ beside it by the
// default-output rule (state/output-folder.ts) and every command line stays short.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, UsageError } from '../../errors.js';
import { booleanOption } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { type CliIO, commandLine, defineCommand } from '../io.js';

const USAGE = 'klingrun init [dir] [options]';

export const STARTER_MANIFEST = 'klingrun.yaml';

/** The starter's files: where each goes in the project, and where its bytes come from. */
const STARTER: readonly { readonly to: string; readonly from: URL }[] = [
  { to: STARTER_MANIFEST, from: new URL('../../data/starter/klingrun.yaml', import.meta.url) },
  { to: 'data/clips.csv', from: new URL('../../data/starter/data/clips.csv', import.meta.url) },
  // npm never packs a file named .gitignore (it renames it .npmignore), hence the plain name.
  { to: '.gitignore', from: new URL('../../data/starter/gitignore', import.meta.url) },
  // The example manifest's own images, which the package ships.
  { to: 'images/harbor.png', from: new URL('../../../jobs/images/harbor.png', import.meta.url) },
  { to: 'images/meadow.jpg', from: new URL('../../../jobs/images/meadow.jpg', import.meta.url) },
];

export const initCommand = defineCommand({
  usage: USAGE,
  options: {
    force: { type: 'boolean', description: 'overwrite the starter files that already exist (other files are never touched)' },
  },
  examples: [
    { command: 'klingrun init', description: 'a starter project in the current folder: klingrun.yaml, data/clips.csv, images/, .gitignore' },
    { command: 'klingrun init my-clips', description: 'the same in my-clips/ (created if needed)' },
  ],
  async run(args, io) {
    if (args.positionals.length > 1) throw new UsageError(`Expected at most one folder, got ${args.positionals.length} arguments. Usage: ${USAGE}`);
    const dir = resolve(io.cwd, args.positionals[0] ?? '.');
    const existing = STARTER.filter((file) => existsSync(join(dir, file.to))).map((file) => file.to);
    if (existing.length > 0 && !booleanOption(args, 'force')) {
      throw new InputError(
        'input_invalid',
        `${relative(io.cwd, dir) || 'This folder'} already has ${existing.join(', ')}: klingrun init never overwrites a file. Run it in an empty folder (\`klingrun init new-folder\`), move those files away, or add --force to replace them with the starter's.`,
      );
    }
    writeStarter(dir);
    io.stdout(nextSteps(relative(io.cwd, join(dir, STARTER_MANIFEST)), io.env));
    return EXIT.ok;
  },
});

function writeStarter(dir: string): void {
  let to = dir;
  try {
    // A folder named output/ makes this folder its project's top, so runs never land in a parent's output/.
    for (to of [...STARTER.map((file) => dirname(join(dir, file.to))), join(dir, 'output')]) mkdirSync(to, { recursive: true });
    for (const file of STARTER) writeFileSync((to = join(dir, file.to)), readFileSync(fileURLToPath(file.from)));
  } catch (cause) {
    throw new InputError('input_invalid', `Cannot write ${to}: ${(cause as Error).message}. Choose a folder you can write to: \`klingrun init <dir>\`.`, { cause });
  }
}

/** What to type next, each command beside what it does (80 columns for the default folder). */
function nextSteps(manifest: string, env: CliIO['env']): string {
  const steps = [
    [commandLine(['plan', manifest], env), 'jobs and cost; no API call'],
    [commandLine(['run', manifest, '--emulator', '--yes'], env), 'offline, against the emulator'],
    [commandLine(['run', manifest], env), 'for real, with COMETAPI_KEY set'],
  ] as const;
  const width = Math.max(...steps.map(([command]) => command.length));
  const [first, ...rest] = STARTER.map((file) => file.to);
  return [
    `Wrote a starter project: ${first} (4 jobs: 2 images × 2 modes),`,
    `${rest.slice(0, -1).join(', ')} and ${rest.at(-1)}.`,
    'Next:',
    ...steps.map(([command, what]) => `  ${command.padEnd(width)}  ${what}`),
    '',
  ].join('\n');
}
