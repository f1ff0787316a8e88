// The CLI entry: builds the real io and runs the CLI (run-cli.ts) on process.argv.
// The only module that touches process.argv, process.env, signals and process.exit.
import { getEventListeners } from 'node:events';
import { KlingrunError } from '../errors.js';
import { EXIT } from './exit-codes.js';
import { fitText } from './fit.js';
import { type CliIO, commandLine } from './io.js';
import { redactor } from './redact.js';
import { main } from './run-cli.js';

const args = process.argv.slice(2);
const redact = redactor(process.env.COMETAPI_KEY);

/** The reader went away (`| head` closed the pipe, the terminal was closed): not a failure of ours. */
const GONE = new Set(['EPIPE', 'EIO', 'ECONNRESET', 'ERR_STREAM_DESTROYED']);

/**
 * Standard output or error, which may go away under a running batch. Once a write has failed,
 * nothing more is written there and the command goes on: the journal, report.json and the lock
 * do not depend on anyone reading. On a terminal, no line is longer than it is wide at the moment
 * of writing (fit.ts): prose is wrapped at word boundaries; to a pipe or a file, lines go whole.
 */
class Output {
  #open = true;
  /** A failure other than the reader going away (e.g. a full disk under `> file`): the output is incomplete. */
  failure: Error | undefined;

  constructor(readonly stream: NodeJS.WriteStream) {
    // Asynchronous write errors arrive here; without a listener Node would crash with a stack trace.
    stream.on('error', (error) => this.close(error));
  }

  get open(): boolean {
    return this.#open;
  }

  readonly write = (text: string): void => {
    if (!this.#open) return;
    try {
      this.stream.write(redact(this.stream.isTTY ? fitText(text, this.stream.columns) : text));
    } catch (error) {
      this.close(error as Error);
    }
  };

  close(error?: Error): void {
    this.#open = false;
    if (error && !GONE.has((error as NodeJS.ErrnoException).code ?? '')) this.failure ??= error;
  }
}

const stdout = new Output(process.stdout);
const stderr = new Output(process.stderr);

/**
 * Asks on the terminal. Ctrl-C (a key to readline, not a signal, while it reads) or a signal ends
 * the question as an interruption; Ctrl-D (end of input) is no answer, i.e. no.
 */
async function confirmOnTerminal(question: string): Promise<boolean> {
  // Loaded on first use: most commands never ask, and start-up counts (npm run bench -- startup).
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const stop = new AbortController();
  const interrupt = (): void => stop.abort();
  rl.on('SIGINT', interrupt);
  controller.signal.addEventListener('abort', interrupt, { once: true });
  try {
    // readline writes the question itself, past Output: it is fitted here (one column spare for the answer).
    const answer = await rl.question(`${process.stderr.isTTY ? fitText(`${question} [y/N]`, process.stderr.columns - 1) : `${question} [y/N]`} `, { signal: stop.signal });
    return /^y(es)?$/i.test(answer.trim());
  } catch (error) {
    // readline ends the line of a question it cancels; after Ctrl-D the message must start one.
    if (stop.signal.aborted) throw new KlingrunError('interrupted', 'Not confirmed: interrupted; nothing was submitted.', { cause: error });
    stderr.write('\n');
    return false;
  } finally {
    controller.signal.removeEventListener('abort', interrupt);
    rl.close();
  }
}

// The first Ctrl-C, SIGTERM or SIGHUP aborts io.signal: a command that follows it (run: no new
// submits, what is in flight is finished) ends in its own time. A second Ctrl-C or SIGTERM exits
// at once; nothing is lost, since the journal is fsynced before every paid step.
const controller = new AbortController();
let interrupts = 0;
let hungUp = false;

function onSignal(signal: NodeJS.Signals): void {
  interrupts += 1;
  if (signal === 'SIGHUP') {
    hungUp = true;
    // The terminal is gone: writing to it would only fail. Redirected output goes on.
    for (const output of [stdout, stderr]) if (output.stream.isTTY) output.close();
    // Closing the terminal after a Ctrl-C asks for nothing new: the run finishes what is paid for.
    if (interrupts > 1) return;
  }
  // A command that does not follow the signal (validate, plan, …) has nothing to finish: it stops now.
  const followed = getEventListeners(controller.signal, 'abort').length > 0;
  if (interrupts === 1 && followed) {
    controller.abort(new KlingrunError('interrupted', `interrupted (${signal})`));
    return;
  }
  if (interrupts > 1) {
    const resume = args[0] === 'run' ? ` Nothing is lost: the journal records every paid step; \`${commandLine(args, process.env)}\` resumes.` : '';
    stderr.write(`\nStopped at once (${signal}).${resume}\n`);
  }
  exit(EXIT.interrupted);
}

function exit(code: number): void {
  if (hungUp && [process.stdin, process.stdout, process.stderr].some((stream) => stream.isTTY)) {
    // The terminal is gone, and Node 20 aborts at exit when it cannot restore the terminal's
    // settings. What had to be done is done: end as a hangup ends a program.
    process.removeAllListeners('SIGHUP');
    process.kill(process.pid, 'SIGHUP');
  }
  process.exit(code);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

const io: CliIO = {
  stdout: stdout.write,
  stderr: stderr.write,
  env: process.env,
  cwd: process.cwd(),
  isTTY: !!process.stdout.isTTY && !!process.stdin.isTTY,
  // Read when asked: a resized window (SIGWINCH, which Node follows) changes it under a run.
  get columns() {
    return process.stdout.isTTY ? process.stdout.columns : undefined;
  },
  confirm: confirmOnTerminal,
  signal: controller.signal,
  argv: [],
};

const code = await main(args, io);
/** Exits with the command's code, unless its output was lost for a reason of ours to tell (a full disk). */
const finish = (): void => {
  if (!stdout.failure) return exit(code);
  stderr.write(`error: not all output could be written: ${stdout.failure.message}.\n`);
  exit(code === EXIT.ok ? EXIT.badInput : code);
};
// Let stdout drain before exiting (a piped `plan --json` can be large); a failed write reports
// its error on a later turn of the event loop.
if (stdout.open) process.stdout.write('', () => setImmediate(finish));
else finish();
