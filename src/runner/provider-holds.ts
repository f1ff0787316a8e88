// Before a run asks to go ahead: does the provider already hold tasks for jobs this folder's
// journal has never sent? A copy of the manifest run from another folder or machine, or a deleted
// output folder, has the same ids: the runner adopts those tasks instead of paying again (its
// lookup before a first submit, submit.ts), and the plan should say so, and how to get fresh
// generations instead. A few free lookups tell; a provider that does not answer tells nothing.
import type { ProviderClient } from '../api/provider.js';
import type { PlannedJob } from '../plan/schema.js';
import { type JobState, externalIdFor } from './job-state.js';

export interface HeldCheck {
  /** Jobs looked up whose lookup was answered. */
  readonly checked: number;
  /** Of those, the ones the provider holds a task for (same external_task_id). */
  readonly held: number;
}

/** At most this many lookups: enough to tell a copied batch from a new one, cheap in requests. */
export const HELD_CHECKS = 3;

/**
 * Looks up (at once, each within `timeoutMs`) at most `max` of `jobs` the journal does not know,
 * spread over the list, by their first attempt's external_task_id. Undefined when none was
 * looked up or none answered (no such route, a refusal, an unreachable provider).
 */
export async function checkHeld(
  client: Pick<ProviderClient, 'findByExternalId'>,
  jobs: readonly PlannedJob[],
  states: ReadonlyMap<string, JobState>,
  { max = HELD_CHECKS, timeoutMs }: { max?: number; timeoutMs: number },
): Promise<HeldCheck | undefined> {
  const unknown = jobs.filter((job) => (states.get(job.id)?.attempt ?? 0) === 0);
  const count = Math.min(max, unknown.length);
  const picked = Array.from({ length: count }, (_, i) => unknown[Math.floor((i * unknown.length) / count)] as PlannedJob);
  const answers = await Promise.all(
    picked.map((job) =>
      client.findByExternalId(externalIdFor(job.external_task_id, 1), { signal: AbortSignal.timeout(timeoutMs) }).then(
        (task) => (task ? 'held' : 'absent'),
        // Any failure is no answer: the run itself meets (and explains) a provider that is wrong.
        () => 'no answer',
      ),
    ),
  );
  const checked = answers.filter((answer) => answer !== 'no answer').length;
  return checked === 0 ? undefined : { checked, held: answers.filter((answer) => answer === 'held').length };
}

/** The plan's note when the provider holds tasks for some of the jobs checked; undefined otherwise. */
export function heldNote(check: HeldCheck | undefined): string | undefined {
  if (!check || check.held === 0) return undefined;
  return `note: the provider already holds tasks for ${check.held} of the ${check.checked} job(s) checked (same external_task_id): they will be adopted, not paid again; for fresh generations set \`id_salt:\` in the manifest.`;
}
