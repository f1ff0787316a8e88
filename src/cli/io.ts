// What a command may touch of the outside world. main.ts builds the real one; tests build their own.
export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Whether stdout is an interactive terminal (progress bars, confirmation prompts). */
  readonly isTTY: boolean;
  /** Asks a yes/no question on the terminal; only called when isTTY. */
  readonly confirm: (question: string) => Promise<boolean>;
  /** The command's own arguments (after the command name), for the report's reproduce block. */
  readonly argv?: readonly string[];
  /** Aborted on the first Ctrl-C; a second one exits at once (main.ts). */
  readonly signal: AbortSignal;
}

export interface CommandArgs {
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  readonly positionals: readonly string[];
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** One-line synopsis, e.g. `klingrun plan <manifest> [--json]`. */
  readonly usage: string;
  /** util.parseArgs option definitions. */
  readonly options: Readonly<Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>>;
  /** Resolves to the exit code. Throws KlingrunError / ProviderError for failures. */
  run(args: CommandArgs, io: CliIO): Promise<number>;
}
