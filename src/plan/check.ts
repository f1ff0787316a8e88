// `plan --check`: does the manifest, with today's images, still produce the plan a report was made
// from? Jobs are matched by where they come from (entry, repeat, variant, image), then their
// requests are compared field by field, so the answer says what changed, not only that it did.
import { canonicalJson } from './ids.js';
import { frameOf, type ImageRef, type JobRequest } from './schema.js';

export interface CheckedJob {
  readonly id: string;
  readonly entry?: number | undefined;
  readonly repeat?: number | undefined;
  readonly variant: Readonly<Record<string, unknown>>;
  readonly request: JobRequest | null;
}

export interface PlanDifference {
  readonly id: string;
  readonly kind: 'changed' | 'removed' | 'added';
  readonly reasons: readonly string[];
}

const imageName = (ref: ImageRef): string => (ref.kind === 'file' ? ref.path : ref.url);

const originOf = (job: CheckedJob): string =>
  canonicalJson([job.entry ?? null, job.repeat ?? null, job.variant, job.request ? imageName(frameOf(job.request)) : null]);

function describeValue(value: unknown): string {
  if (value === undefined) return '(unset)';
  if (value && typeof value === 'object' && 'kind' in value) {
    const ref = value as ImageRef;
    return ref.kind === 'file' ? `${ref.path} (sha256 ${ref.sha256.slice(0, 12)}…)` : ref.url;
  }
  return JSON.stringify(value);
}

/** Field-by-field reasons why two requests differ. */
export function requestChanges(before: JobRequest, after: JobRequest): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const reasons: string[] = [];
  for (const key of keys) {
    const a = (before as Record<string, unknown>)[key];
    const b = (after as Record<string, unknown>)[key];
    if (canonicalJson(a ?? null) === canonicalJson(b ?? null)) continue;
    const sameFile = a && b && typeof a === 'object' && typeof b === 'object' && 'path' in a && 'path' in b && a.path === b.path;
    reasons.push(sameFile ? `${key}: ${(a as { path: string }).path} has new content` : `${key}: ${describeValue(a)} → ${describeValue(b)}`);
  }
  return reasons;
}

export function comparePlans(recorded: readonly CheckedJob[], current: readonly CheckedJob[], idSaltChanged = false): PlanDifference[] {
  const currentIds = new Set(current.map((j) => j.id));
  const recordedIds = new Set(recorded.map((j) => j.id));
  const currentByOrigin = new Map(current.map((j) => [originOf(j), j]));
  const matched = new Set<string>();
  const differences: PlanDifference[] = [];
  for (const old of recorded) {
    if (currentIds.has(old.id)) continue;
    const now = currentByOrigin.get(originOf(old));
    if (now && !recordedIds.has(now.id)) {
      matched.add(now.id);
      const reasons = old.request && now.request ? requestChanges(old.request, now.request) : [];
      if (reasons.length === 0) reasons.push(idSaltChanged ? 'id_salt changed' : 'the job id changed (id_salt or repeat index)');
      differences.push({ id: old.id, kind: 'changed', reasons });
    } else {
      differences.push({ id: old.id, kind: 'removed', reasons: ['no longer in the plan'] });
    }
  }
  for (const job of current) {
    if (!recordedIds.has(job.id) && !matched.has(job.id)) differences.push({ id: job.id, kind: 'added', reasons: ['new in the plan'] });
  }
  return differences;
}
