// Writes the JSON Schemas generated from the zod schemas (`npm run schemas`). Add a pair to
// SCHEMAS to publish another one; test/schema-drift.test.ts fails when a file is stale.
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { listDurations } from '../src/data/capabilities.js';
import { loadModelTable } from '../src/data/tables.js';
import { manifestSchema, TABLE_VALUED_FIELDS } from '../src/manifest/schema.js';
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

/** The shipped model table's models, modes (in table order) and durations (ascending): what editors suggest. */
function tableSuggestions(): Map<unknown, readonly (string | number)[]> {
  const { models } = loadModelTable();
  const caps = Object.values(models);
  return new Map<unknown, readonly (string | number)[]>([
    [TABLE_VALUED_FIELDS.model_name, Object.keys(models)],
    [TABLE_VALUED_FIELDS.mode, [...new Set(caps.flatMap((c) => c.modes))]],
    [TABLE_VALUED_FIELDS.duration, [...new Set(caps.flatMap((c) => listDurations(c.durations)))].sort((a, b) => a - b)],
  ]);
}

/**
 * Model names, modes and durations are open (any --models table may add some), so the schema
 * offers the shipped table's values as suggestions beside what it accepts: editors complete them
 * without refusing anything else.
 */
export function renderSchema({ schema, io }: SchemaFile): string {
  const suggestions = tableSuggestions();
  const json = z.toJSONSchema(schema, {
    io,
    target: 'draft-2020-12',
    override: ({ zodSchema, jsonSchema }) => {
      const values = suggestions.get(zodSchema);
      if (!values) return;
      const { description, ...accepted } = jsonSchema;
      for (const key of Object.keys(jsonSchema)) delete jsonSchema[key];
      Object.assign(jsonSchema, { ...(description ? { description } : {}), anyOf: [{ enum: values }, accepted] });
    },
  });
  return `${JSON.stringify(json, null, 2)}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const entry of SCHEMAS) {
    writeFileSync(new URL(`../${entry.file}`, import.meta.url), renderSchema(entry));
    console.log(`wrote ${entry.file}`);
  }
}
