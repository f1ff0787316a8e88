// The CLI entry: parses the command line, runs one command, maps the outcome to an exit code.
// The only module that touches process.argv, process.env and process.exit.
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { formatError } from './format-error.js';
import type { CliIO, Command } from './io.js';
import { commands } from './commands/index.js';
import { redactor } from './redact.js';

function usage(): string {
  const lines = ['Usage: klingrun <command> [options]', '', 'Commands:'];
  for (const command of commands) lines.push(`  ${command.usage.padEnd(64)} ${command.summary}`);
  lines.push('', 'Run `klingrun <command> --help` for the options of one command.');
  return lines.join('\n');
}

function commandHelp(command: Command): string {
  const options = Object.entries(command.options).map(([name, o]) => `  --${name}${o.type === 'string' ? ' <value>' : ''}`);
  return [`Usage: ${command.usage}`, '', command.summary, ...(options.length ? ['', 'Options:', ...options] : [])].join('\n');
}

export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage() + '\n');
    return name ? EXIT.ok : EXIT.badInput;
  }
  if (name === '--version' || name === '-v') {
    io.stdout(`${(await import('../version.js')).VERSION}\n`);
    return EXIT.ok;
  }
  const command = commands.find((c) => c.name === name);
  try {
    if (!command) throw new UsageError(`Unknown command \`${name}\`. Run \`klingrun --help\` to see the commands.`);
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout(commandHelp(command) + '\n');
      return EXIT.ok;
    }
    let parsed;
    try {
      parsed = parseArgs({ args: [...rest], options: command.options, allowPositionals: true, strict: true });
    } catch (error) {
      throw new UsageError(`${(error as Error).message}. Usage: ${command.usage}`);
    }
    return await command.run(parsed, { ...io, argv: rest });
  } catch (error) {
    io.stderr(formatError(error) + '\n');
    return exitCodeFor(error);
  }
}

async function confirmOnTerminal(question: string): Promise<boolean> {
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
