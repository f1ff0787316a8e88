// report.json: a pure function of the plan and the journal (report/build.ts). The JSON Schema in
// schemas/report.schema.json is generated from this.
import { z } from 'zod';
import { priceTableSchema } from '../data/tables.js';
import { jobRequestSchema, variantValueSchema } from '../plan/schema.js';

export const REPORT_STATUSES = [
  'succeeded', // the video is on disk with its sha256
  'invalid_output', // the task succeeded but its file is not a playable MP4
  'not_downloaded', // the task succeeded; the video is not on disk yet (a rerun fetches it)
  'failed',
  'timed_out',
  'skipped_budget',
  'orphaned', // a duplicate refusal says its task exists, but no lookup shows it yet; a rerun looks again
  'lost_at_provider', // the provider no longer knows its task; `--retry-failed` submits it again
  'in_flight', // submitted, not finished when the run stopped
  'unconfirmed', // a submit whose answer was lost, whose task was neither found nor proven absent; never resent automatically
  'pending', // never submitted
] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];

const latencySchema = z.strictObject({ p50: z.number().nullable(), p95: z.number().nullable(), max: z.number().nullable() });

export const reportJobSchema = z.strictObject({
  id: z.string(),
  external_task_id: z.string().nullable(),
  task_id: z.string().nullable(),
  /** Where the job comes from: the manifest's jobs[] index and the repeat (null when no longer planned). */
  entry: z.number().int().nullable(),
  repeat: z.number().int().nullable(),
  variant: z.record(z.string(), variantValueSchema),
  /** The request as planned: local images relative to the manifest's folder, as `plan --json` has them. */
  params: jobRequestSchema.nullable(),
  /** The source image relative to this report's folder (or its URL). Absent in reports of older versions. */
  image_path: z.string().nullable().optional(),
  status: z.enum(REPORT_STATUSES),
  attempts: z.number().int().nonnegative(),
  error: z.strictObject({ code: z.union([z.number(), z.string()]), message: z.string() }).nullable(),
  video: z
    .strictObject({
      path: z.string().nullable(),
      url: z.string().nullable(),
      sha256: z.string().nullable(),
      bytes: z.number().nullable(),
      duration_s: z.number().nullable(),
      width: z.number().nullable(),
      height: z.number().nullable(),
      /** From the clip's header when it was downloaded; absent in reports of older versions, null for older clips. */
      fps: z.number().nullable().optional(),
      codec: z.string().nullable().optional(),
      frames: z.number().int().nullable().optional(),
    })
    .nullable(),
  warnings: z.array(z.string()),
  /** Estimated USD of one task of this job; null when the price table does not know it. */
  cost_usd: z.number().nullable(),
  /** Tasks the provider may bill this job for: `certain` (it succeeded) and `possible` (it exists or may, failed ones and earlier attempts included). */
  tasks: z.strictObject({
    certain: z.number().int(),
    possible: z.number().int(),
    /** 1 when the current task (counted above) was adopted from another folder's or machine's run, which paid for it; absent in reports of older versions. */
    adopted: z.number().int().optional(),
  }),
  /**
   * What the provider says the task cost (`final_unit_deduction`), in its units and in USD (units ×
   * the report's `cost.unit_price`); null when it did not say. A task that states only its list
   * price is measured at that price.
   */
  units: z.number().nullable(),
  measured_usd: z.number().nullable(),
  /** Kling's list price of the task as the provider states it (`final_balance_deduction.list_price`); absent in reports of older versions. */
  list_price: z.number().nullable().optional(),
  submitted_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  latency_s: z.number().nullable(),
  name: z.string().optional(),
  extra: z.record(z.string(), z.string()).optional(),
  /** False for a job only the journal knows: sent by an earlier version of the manifest, finished anyway because it was paid for. */
  in_manifest: z.boolean(),
});
export type ReportJob = z.infer<typeof reportJobSchema>;

export const variantSummarySchema = z.strictObject({
  /** The variant as the tables show it, e.g. `kling-v2-6 pro 5s sound=off`. */
  label: z.string().optional(),
  /**
   * Every field that makes the variant, with its value: model_name, mode and duration, and each
   * field the matrix combination sets (see README, "Variants"). Absent in reports of older versions.
   */
  fields: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  /** The folder under videos/ where this variant's clips are downloaded. */
  folder: z.string().optional(),
  model_name: z.string(),
  mode: z.string().nullable(),
  duration: z.string(),
  jobs: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  success_rate: z.number().nullable(),
  latency_s: latencySchema,
  /** Estimated USD of the succeeded jobs; null when the price is unknown. */
  cost_usd: z.number().nullable(),
});
export type VariantSummary = z.infer<typeof variantSummarySchema>;

/** Everything needed to rerun the batch exactly (`klingrun plan --check report.json`). */
export const reproduceSchema = z.strictObject({
  tool_version: z.string(),
  manifest_sha256: z.string(),
  /** sha256 of `klingrun plan --json` for this manifest and these images. */
  plan_sha256: z.string(),
  id_salt: z.string(),
  prices: priceTableSchema,
  limits: z.strictObject({
    concurrency: z.number(),
    rpm: z.number(),
    budget_usd: z.number().nullable(),
    task_timeout_min: z.number(),
    poll_interval_s: z.number().nullable(),
    download_concurrency: z.number(),
  }),
  /** The command line, without the program name; the API key is never on it. */
  command: z.array(z.string()),
});
export type Reproduce = z.infer<typeof reproduceSchema>;

export const reportSchema = z.strictObject({
  tool: z.strictObject({ name: z.literal('klingrun'), version: z.string() }),
  manifest: z.strictObject({ path: z.string(), sha256: z.string(), name: z.string() }),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  totals: z.strictObject({
    jobs: z.number().int(),
    ...Object.fromEntries(REPORT_STATUSES.map((s) => [s, z.number().int()])) as Record<ReportStatus, z.ZodNumber>,
    /** Jobs only the journal knows (an earlier version of the manifest). */
    not_in_manifest: z.number().int(),
  }),
  /**
   * What the batch cost or may have cost. Whether the provider bills failed tasks is not documented,
   * so estimates are split: `certain` for tasks that succeeded, `possible` for every other task that
   * exists or may exist (in flight, failed, timed out, unconfirmed, orphaned, lost, earlier attempts).
   */
  cost: z.strictObject({
    certain_usd: z.number(),
    /** Of `certain_usd`, tasks adopted from another folder's or machine's run (same ids): paid before, not by this folder. Absent in reports of older versions. */
    certain_adopted_usd: z.number().optional(),
    possible_usd: z.number(),
    /** Tasks counted above whose price the table does not know (left out of the sums). */
    unknown_price_tasks: z.number().int(),
    /** What the provider said it charged (`final_unit_deduction`), for `measured_jobs` of the jobs. */
    measured_usd: z.number(),
    measured_jobs: z.number().int(),
    /** The USD per unit `measured_usd` was worked out with and where it came from; absent in reports of older versions ($0.14). */
    unit_price: z
      .strictObject({
        usd_per_unit: z.number(),
        /** `option`: --unit-price; `table`: the price file's `usd_per_unit`; `default`: Kling's standard packs. */
        from: z.enum(['option', 'table', 'default']),
        file: z.string().optional(),
      })
      .optional(),
  }),
  by_variant: z.array(variantSummarySchema),
  jobs: z.array(reportJobSchema),
  reproduce: reproduceSchema.nullable(),
});
export type Report = z.infer<typeof reportSchema>;
