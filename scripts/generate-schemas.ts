// Writes the JSON Schemas generated from the zod schemas (`npm run schemas`). Add a pair to
// SCHEMAS to publish another one; test/schema-drift.test.ts fails when a file is stale.
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { manifestSchema } from '../src/manifest/schema.js';
import { reportSchema } from '../src/report/schema.js';

export interface SchemaFile {
  readonly schema: z.ZodType;
  /** Relative to the repository root. */
  readonly file: string;
  /** `input`: what a user writes (5 is a valid duration); `output`: what klingrun writes. */
  readonly io: 'input' | 'output';
}

export const SCHEMAS: readonly SchemaFile[] = [
  { schema: manifestSchema, file: 'schemas/manifest.schema.json', io: 'input' },
  { schema: reportSchema, file: 'schemas/report.schema.json', io: 'output' },
];

export function renderSchema({ schema, io }: SchemaFile): string {
  return `${JSON.stringify(z.toJSONSchema(schema, { io, target: 'draft-2020-12' }), null, 2)}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const entry of SCHEMAS) {
    writeFileSync(new URL(`../${entry.file}`, import.meta.url), renderSchema(entry));
    console.log(`wrote ${entry.file}`);
  }
}
