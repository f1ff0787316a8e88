// Manifest test helpers: small file trees in temp folders (removed after each test), a parse that
// returns the formatted errors, and commands run in-process with a recording CliIO.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { formatError } from '../../src/cli/format-error.js';
import type { CliIO, Command } from '../../src/cli/io.js';
import { parseManifest } from '../../src/manifest/load.js';
import { ManifestError } from '../../src/errors.js';
import { loadPlan } from '../../src/plan/index.js';
import { makePng } from './images.js';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp folder holding `files` (text, bytes, or `png(w, h, seed)`); removed after the test. */
export function tempTree(files: Record<string, string | Uint8Array> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'klingrun-manifest-'));
  made.push(dir);
  writeTree(dir, files);
  return dir;
}

export function writeTree(dir: string, files: Record<string, string | Uint8Array>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

/** A valid image (512×384 unless told) whose content follows `seed`. */
export const png = (seed = 0, width = 512, height = 384): Uint8Array => makePng({ width, height, seed });

/** The formatted errors of a manifest text, as the CLI prints them ('' when it parses). */
export function parseErrors(text: string, file = 'jobs/m.yaml'): string {
  try {
    parseManifest(text, file);
    return '';
  } catch (error) {
    return formatError(error);
  }
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command as main.ts would (errors formatted to stderr), with a recording CliIO. */
export async function runCommand(command: Command, argv: { values?: Record<string, string | boolean>; positionals: string[] }, cwd: string): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    env: {},
    cwd,
    isTTY: false,
    confirm: async () => false,
    signal: new AbortController().signal,
  };
  let code: number;
  try {
    code = await command.run({ values: argv.values ?? {}, positionals: argv.positionals }, io);
  } catch (error) {
    stderr += `${formatError(error)}\n`;
    code = exitCodeFor(error);
  }
  return { code, stdout, stderr };
}

/** Plans `manifest` (as m.yaml) in a temp folder holding `files` (two images by default). */
export async function planIn(manifest: string, files: Record<string, string | Uint8Array> = { 'a.png': png(1), 'b.png': png(2) }) {
  const dir = tempTree({ 'm.yaml': manifest, ...files });
  return { dir, ...(await loadPlan('m.yaml', { cwd: dir })) };
}

/** The formatted plan errors of `manifest`, as the CLI prints them ('' when it plans). */
export async function planErrorsIn(manifest: string, files?: Record<string, string | Uint8Array>): Promise<string> {
  try {
    await planIn(manifest, files);
    return '';
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    return formatError(error);
  }
}
