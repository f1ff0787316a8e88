// runBatch as a script uses it: against a provider in another process nothing but the batch keeps
// Node's event loop alive between polls (the clock's timers are unref'd), so it must hold it itself.
import { spawn } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../src/emulator/index.js';
import { tempTree } from './helpers/manifest.js';
import { ROOT } from './helpers/reports.js';

describe('runBatch in a script of its own', () => {
  it('runs to its report against a provider in another process, without exiting mid-batch', async () => {
    const dir = tempTree();
    cpSync(join(ROOT, 'jobs'), join(dir, 'jobs'), { recursive: true });
    // A slow clock: each task takes seconds, so the script spends its time waiting between polls.
    const emulator = await startEmulator({ timeScale: 0.02, keys: ['script-key'] });
    try {
      writeFileSync(
        join(dir, 'script.mts'),
        `import { loadPlan } from '${join(ROOT, 'src/plan/index.js')}';
import { runBatch } from '${join(ROOT, 'src/batch.js')}';
const manifest = await loadPlan('jobs/example.yaml');
const result = await runBatch({ manifest, outputDir: 'out', baseUrl: process.argv[2], apiKey: 'script-key', limits: { poll_interval_s: 2, absence_window_s: 1 } });
console.log('done', result.report.summary.totals.succeeded);
`,
      );
      // Not spawnSync: the emulator answers from this process while the script runs.
      const child = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const run = spawn(process.execPath, ['--import', join(ROOT, 'node_modules/tsx/dist/esm/index.mjs'), 'script.mts', emulator.url], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        run.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        run.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        run.on('close', (status) => resolve({ status, stdout, stderr }));
      });
      expect(child.stderr).toBe('');
      expect(child.stdout).toBe('done 8\n');
      expect(child.status).toBe(0);
      expect(JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8')).totals.succeeded).toBe(8);
    } finally {
      await emulator.close();
    }
  }, 120_000);
});
