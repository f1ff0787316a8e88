// Every command of the CLI, in the order `klingrun --help` lists them.
import type { Command } from '../io.js';

export const commands: readonly Command[] = [];
