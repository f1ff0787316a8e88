// Every command of the CLI, in the order `klingrun --help` lists them. Each is loaded only when it
// runs (or shows its help): `klingrun --version` and `klingrun validate` do not pay for the runner,
// the emulator or the report. A new command is one entry here and one file beside this one.
import type { CommandSummary } from '../help.js';
import type { Command } from '../io.js';

export interface CommandEntry extends CommandSummary {
  load(): Promise<Command>;
}

export const commands: readonly CommandEntry[] = [
  { name: 'init', summary: 'Write a starter project (a manifest with comments, a CSV, two images, .gitignore) to run as is.', load: async () => (await import('./init.js')).initCommand },
  { name: 'validate', summary: 'Check manifests (fields, matrix, images, model rules) without calling the API.', load: async () => (await import('./validate.js')).validateCommand },
  { name: 'plan', summary: 'Show the jobs a manifest would run and their estimated cost (--json: the whole plan).', load: async () => (await import('./plan.js')).planCommand },
  { name: 'run', summary: 'Run a manifest: submit, poll, download, report. Rerun the same command to resume.', load: async () => (await import('./run.js')).runCommand },
  { name: 'status', summary: 'Summarize a batch from its journal and the clips on disk, without any network call.', load: async () => (await import('./status.js')).statusCommand },
  { name: 'runs', summary: 'List the runs under an output root: state, jobs done, cost, last activity (no network call).', load: async () => (await import('./runs.js')).runsCommand },
  { name: 'report', summary: 'Rebuild report.json from the journal; --html adds the comparison gallery; --merge joins shards.', load: async () => (await import('./report.js')).reportCommand },
  { name: 'export', summary: 'Write one row per clip (JSONL or CSV), --where to choose; --format hf or webdataset: a dataset.', load: async () => (await import('./export.js')).exportCommand },
  { name: 'rate', summary: 'Keep or reject clips in ratings.json (or import the file the gallery saved); updates the gallery.', load: async () => (await import('./rate.js')).rateCommand },
  { name: 'doctor', summary: 'Check the key, the base URL and what the provider offers, with free requests only.', load: async () => (await import('./doctor.js')).doctorCommand },
  { name: 'emulate', summary: 'Run the offline emulator of the CometAPI Kling API until Ctrl-C.', load: async () => (await import('./emulate.js')).emulateCommand },
];
