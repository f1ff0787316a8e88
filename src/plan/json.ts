// The plan's canonical text: what `plan --json` prints and what the report's plan_sha256 hashes.
import { sha256Hex } from './ids.js';
import type { Plan } from './schema.js';

export const planJson = (plan: Plan): string => `${JSON.stringify(plan, null, 2)}\n`;

export const planSha256 = (plan: Plan): string => sha256Hex(planJson(plan));
