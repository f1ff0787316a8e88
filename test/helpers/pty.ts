// A command in a real pseudo-terminal, driven like a person at a keyboard: wait for text on the
// screen (or in a file), press keys, send a signal, close the terminal. Python's `pty` module does
// the terminal work (Node has none built in); this file holds the driver and runs it.
import { spawn } from 'node:child_process';

const DRIVER = String.raw`
import fcntl, json, os, pty, re, select, signal, struct, sys, termios, time
config = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', config['rows'], config['columns'], 0, 0))
    os.chdir(config['cwd'])
    os.execvpe(config['argv'][0], config['argv'], config['env'])
out = b''
open_ = True
def pump(wait):
    global out, open_
    if not open_:
        time.sleep(wait)
        return
    ready, _, _ = select.select([fd], [], [], wait)
    if ready:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b''
        if data:
            out += data
        else:
            open_ = False
failed = None
marks = []
for step in config['steps']:
    deadline = time.time() + config['step_timeout_s']
    if 'expect' in step or 'file' in step:
        pattern = re.compile(step.get('expect') or step['match'])
        def seen():
            if 'expect' in step:
                return pattern.search(out.decode('utf-8', 'replace'))
            try:
                with open(step['file'], encoding='utf-8') as f:
                    return pattern.search(f.read())
            except OSError:
                return None
        while not seen() and time.time() < deadline and (open_ or 'file' in step):
            pump(0.05)
        if not seen():
            failed = step
            break
    elif 'send' in step:
        os.write(fd, step['send'].encode())
    elif 'signal' in step:
        os.kill(pid, getattr(signal, step['signal']))
    elif 'hangup' in step:
        os.close(fd)
        open_ = False
    elif 'resize' in step:
        # As a window resized: the terminal's size changes and its program gets SIGWINCH.
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', config['rows'], step['resize'], 0, 0))
    elif 'wait' in step:
        deadline = time.time() + step['wait']
        while time.time() < deadline:
            pump(0.05)
    elif 'mark' in step:
        marks.append(len(out.decode('utf-8', 'replace')))
deadline = time.time() + config['exit_timeout_s']
status = None
while time.time() < deadline:
    pump(0.05)
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    status = None
if status is None:
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
while open_:
    pump(0.05)
print(json.dumps({'output': out.decode('utf-8', 'replace'), 'code': os.waitstatus_to_exitcode(status), 'failed_step': failed, 'marks': marks}))
`;

export type PtyStep =
  /** Waits until the screen shows text matching this regular expression (Python syntax). */
  | { readonly expect: string }
  /** Waits until a file's content matches. */
  | { readonly file: string; readonly match: string }
  /** Types these characters (`\x03` is Ctrl-C, `\x04` Ctrl-D). */
  | { readonly send: string }
  | { readonly signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP' }
  /** Closes the terminal, as closing its window does: the command gets SIGHUP, its writes fail. */
  | { readonly hangup: true }
  /** Resizes the terminal to this many columns, as dragging its window does (the command gets SIGWINCH). */
  | { readonly resize: number }
  /** Goes on reading the screen for this many seconds. */
  | { readonly wait: number }
  /** Notes how much the screen has shown so far (PtyResult.marks). */
  | { readonly mark: true };

export interface PtyOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly steps: readonly PtyStep[];
  /** @default 80 */
  readonly columns?: number;
  /** How long one waiting step may wait, and how long the command may take to exit after the last step. @default 20 and 30 */
  readonly stepTimeoutS?: number;
  readonly exitTimeoutS?: number;
}

export interface PtyResult {
  /** Everything the terminal showed (with \r\n line ends and escape codes). */
  readonly output: string;
  /** The exit code; -N when signal N ended the command (or the driver killed it after exitTimeoutS). */
  readonly code: number;
  /** The waiting step that never saw its text, if one did not. */
  readonly failedStep: PtyStep | null;
  /** At each `mark` step, the length of `output` then. */
  readonly marks: readonly number[];
}

/** Runs `argv` in a terminal of `columns` × 24 through the steps, then until it exits. */
export function runInPty(argv: readonly string[], options: PtyOptions): Promise<PtyResult> {
  const config = {
    argv,
    cwd: options.cwd,
    env: { TERM: 'xterm', PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...options.env },
    steps: options.steps,
    columns: options.columns ?? 80,
    rows: 24,
    step_timeout_s: options.stepTimeoutS ?? 20,
    exit_timeout_s: options.exitTimeoutS ?? 30,
  };
  return new Promise((resolve, reject) => {
    const driver = spawn('python3', ['-c', DRIVER, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    driver.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString('utf8')));
    driver.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString('utf8')));
    driver.once('error', reject);
    driver.once('close', (code) => {
      if (code !== 0) return reject(new Error(`the pty driver failed (exit ${code}): ${stderr}`));
      const parsed = JSON.parse(stdout) as { output: string; code: number; failed_step: PtyStep | null; marks: number[] };
      resolve({ output: parsed.output, code: parsed.code, failedStep: parsed.failed_step, marks: parsed.marks });
    });
  });
}

/** The screen's text as lines: escape codes and carriage returns removed. */
export function screenLines(output: string): string[] {
  return output
    .replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, '')
    .split('\n')
    .map((line) => line.replace(/\r/g, '').trimEnd());
}

/**
 * The lines a terminal `columns` wide would have had to wrap: text written past its last column,
 * following the cursor through carriage returns, line feeds and the cursor moves progress bars and
 * readline use (a redrawn line is measured as drawn, not as the bytes that drew it).
 */
export function overlongLines(output: string, columns: number): string[] {
  const overlong: string[] = [];
  let column = 0;
  let saved = 0;
  let line = '';
  let over = false;
  const endLine = (): void => {
    if (over) overlong.push(line);
    line = '';
    over = false;
  };
  for (const token of output.match(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]|[\s\S]/gu) ?? []) {
    const csi = /^\x1b\[([0-9;?]*)([A-Za-z])$/.exec(token);
    const n = Number(csi?.[1] || 1);
    if (csi?.[2] === 'G') column = n - 1;
    else if (csi?.[2] === 'C') column += n;
    else if (csi?.[2] === 'D') column = Math.max(0, column - n);
    else if (csi) continue;
    else if (token === '\x1b7') saved = column;
    else if (token === '\x1b8') column = saved;
    else if (token === '\r') column = 0;
    else if (token === '\n') {
      column = 0;
      endLine();
    } else {
      column += 1;
      line += token;
      if (column > columns) over = true;
    }
  }
  endLine();
  return overlong;
}
