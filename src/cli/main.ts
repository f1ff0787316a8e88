// The CLI entry: builds the real io and runs the CLI (run-cli.ts) on process.argv.
// The only module that touches process.argv, process.env and process.exit.
import { EXIT } from './exit-codes.js';
import type { CliIO } from './io.js';
import { redactor } from './redact.js';
import { main } from './run-cli.js';

async function confirmOnTerminal(question: string): Promise<boolean> {
  // Loaded on first use: most commands never ask, and start-up counts (npm run bench -- startup).
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

// Ctrl-C once: abort the signal (commands stop submitting and finish what is in flight);
// twice: exit at once; the journal is fsynced before every paid step, so nothing is lost.
const controller = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
  interrupts += 1;
  if (interrupts === 1) {
    process.stderr.write('\nInterrupted: no new submits; finishing what is in flight. Press Ctrl-C again to exit now.\n');
    controller.abort(new Error('interrupted'));
  } else {
    process.exit(EXIT.interrupted);
  }
});
process.on('SIGTERM', () => controller.abort(new Error('interrupted')));

const redact = redactor(process.env.COMETAPI_KEY);
const io: CliIO = {
  stdout: (text) => process.stdout.write(redact(text)),
  stderr: (text) => process.stderr.write(redact(text)),
  env: process.env,
  cwd: process.cwd(),
  isTTY: !!process.stdout.isTTY && !!process.stdin.isTTY,
  confirm: confirmOnTerminal,
  signal: controller.signal,
  argv: [],
};

const code = await main(process.argv.slice(2), io);
// Let stdout drain before exiting (a piped `plan --json` can be large).
process.stdout.write('', () => process.exit(code));
