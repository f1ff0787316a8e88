// Every command of the CLI, in the order `klingrun --help` lists them.
import type { Command } from '../io.js';
import { doctorCommand } from './doctor.js';
import { emulateCommand } from './emulate.js';
import { exportCommand } from './export.js';
import { planCommand } from './plan.js';
import { reportCommand } from './report.js';
import { runCommand } from './run.js';
import { statusCommand } from './status.js';
import { validateCommand } from './validate.js';

export const commands: readonly Command[] = [validateCommand, planCommand, runCommand, statusCommand, reportCommand, exportCommand, doctorCommand, emulateCommand];
