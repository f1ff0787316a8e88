// The library: `import { … } from 'klingrun'`. Everything the CLI does, as functions with types;
// nothing here reads the environment or prints. Reference: docs/library.md.

export { VERSION } from './version.js';

// Manifests → plans.
export { loadPlan, summarizePlan, type CostRow, type CostSummary, type LoadPlanOptions, type LoadedPlan, type Manifest, type ManifestFs } from './plan/index.js';
export { planJson, planJsonChunks, planSha256 } from './plan/json.js';
export { planSchema, type ImageRef, type JobRequest, type Plan, type PlannedJob } from './plan/schema.js';
export { loadModelTable, loadPriceTable, type ModelCapability, type ModelTable, type PriceRow, type PriceTable } from './data/tables.js';

// Running a batch: runBatch is what `klingrun run` does (plan, lock, journal, run, report);
// runJobs is its job loop alone, for callers that bring their own journal, limits and clock.
export { runBatch, type BatchOptions, type BatchResult, type WorkLeft } from './batch.js';
export { runJobs, type RunInput, type RunResult } from './runner/run.js';
export type { FolderGuard, RunnableJob } from './runner/context.js';
export { DEFAULT_RUN_OPTIONS, resolveRunOptions, type RunOptionsInput } from './runner/options.js';
export type { Gate, Limiter, ResolvedRunOptions } from './runner/context.js';
export { ConcurrencyGate, RequestLimiter } from './runner/limits.js';
export { JournalState, type JobState, type Phase } from './runner/job-state.js';
export { openJournal, readJournal, type Journal, type JournalOptions, type ReplayedJournal } from './state/journal.js';
export type { JournalEvent } from './state/events.js';
export { acquireLock, type Lock, type LockOptions } from './state/lock.js';

// The provider.
export { DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS, createClient, type ClientOptions } from './api/client.js';
export type { ProviderClient } from './api/provider.js';
export { ProviderError, type ErrorClass } from './api/errors.js';
export { startEmulator, loadEmulatorConfig, type EmulatorHandle, type EmulatorOptions, type EmulatorOptionsInput, type EmulatorStats } from './emulator/index.js';

// Reports, galleries, exports.
export { asStream, buildReport, streamReport, type ReportInput, type ReportSummary, type StreamedReport } from './report/build.js';
export { readReport } from './report/load-output.js';
export { JOURNAL_FILE, REPORT_FILE, defaultOutputDir } from './state/output-folder.js';
export { REPORT_STATUSES, reportSchema, type Report, type ReportJob, type ReportStatus, type VariantSummary } from './report/schema.js';
export { GALLERY_FILE, renderGallery, writeGallery } from './report/gallery.js';
export { EXPORT_FORMATS, exportRows, formatRows, type ExportFormat, type ExportRow } from './report/export.js';
export { parseWhere, type WhereCondition } from './report/where.js';
export { RATINGS_FILE, readRatings, writeRatings, type Rating } from './report/ratings.js';

// Errors and effects.
export { InputError, KlingrunError, ManifestError, StateError, UsageError, type InputIssue, type KlingrunErrorCode } from './errors.js';
export { seededRandom, silentLogger, systemClock, type Clock, type Logger, type Random } from './effects.js';
