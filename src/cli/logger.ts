// The CLI's logger: warnings always, debug lines with KLINGRUN_DEBUG=1. Everything goes to
// stderr so stdout stays clean for `--json` and export output.
import type { Logger } from '../effects.js';

export function cliLogger(write: (text: string) => void, debug: boolean): Logger {
  return {
    info: (message) => write(`${message}\n`),
    warn: (message) => write(`warning: ${message}\n`),
    debug: debug ? (message) => write(`debug: ${message}\n`) : () => {},
  };
}
