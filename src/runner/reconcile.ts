// Finding the task of a POST whose answer was lost, before anything could pay for it twice:
// first by external_task_id in the path slot, then by scanning the list, newest first.
import { ProviderError } from '../api/errors.js';
import type { Task } from '../api/schemas.js';
import type { RunContext } from './context.js';
import { retrying } from './retry.js';

const PAGE_SIZE = 500;
const MAX_PAGES = 20;
/** Clocks differ between us and the provider; scan this much further back than the submit. */
const CLOCK_SLACK_MS = 15 * 60_000;

export interface Found {
  readonly task: Task;
  readonly via: 'lookup' | 'list';
}

/**
 * Resolves the task created under `externalTaskId`, or null when neither the lookup nor the list
 * shows it. Throws ProviderError for run-stopping answers (auth, account) and for transport
 * failures, so the caller retries the reconciliation rather than the submit.
 */
export async function findTask(context: RunContext, externalTaskId: string, submittedAt: number): Promise<Found | null> {
  const signal = context.hardSignal;
  await context.limiter.take(signal);
  const byLookup = await lookup(context, externalTaskId);
  if (byLookup) return { task: byLookup, via: 'lookup' };

  for (let pageNum = 1; pageNum <= MAX_PAGES; pageNum++) {
    await context.limiter.take(signal);
    let page: Task[];
    try {
      page = await context.client.listTasks({ pageNum, pageSize: PAGE_SIZE, signal });
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'unsupported') return null;
      throw error;
    }
    const match = page.find((task) => task.task_info?.external_task_id === externalTaskId);
    if (match) return { task: match, via: 'list' };
    const oldest = page.at(-1);
    if (page.length < PAGE_SIZE || !oldest || (oldest.created_at ?? Infinity) < submittedAt - CLOCK_SLACK_MS) return null;
  }
  return null;
}

/** findTask, retried until the provider gives a definite answer (found or not found). */
export function findTaskPatiently(context: RunContext, externalTaskId: string, submittedAt: number): Promise<Found | null> {
  return retrying(context, `reconcile ${externalTaskId}`, () => findTask(context, externalTaskId, submittedAt));
}

async function lookup(context: RunContext, externalTaskId: string): Promise<Task | null> {
  try {
    const task = await context.client.findByExternalId(externalTaskId, { signal: context.hardSignal });
    // Only trust a lookup that names our id: a provider could ignore the slot's meaning.
    if (task && task.task_info?.external_task_id !== undefined && task.task_info.external_task_id !== externalTaskId) return null;
    return task;
  } catch (error) {
    if (error instanceof ProviderError && (error.code === 'unsupported' || error.errorClass === 'fatal-job')) return null;
    throw error;
  }
}
