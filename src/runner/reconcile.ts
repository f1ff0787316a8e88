// Finding the task of a POST whose answer was lost, and proving it does not exist before anything
// is sent again. Lookups and lists may lag behind creates, or not work on this account at all, so
// "not found" proves absence only when
//   1. this way of finding tasks has been seen, during this run, to find a task of this account, and
//   2. the task stayed unfound over several looks spread across a consistency window after the POST.
// Anything less is "unknown": the job is left unconfirmed, never resent automatically.
import { ProviderError } from '../api/errors.js';
import type { Task } from '../api/schemas.js';
import type { RunContext } from './context.js';
import { retrying } from './retry.js';

export type Finding =
  | { readonly kind: 'found'; readonly task: Task; readonly via: 'lookup' | 'list' }
  | { readonly kind: 'absent' }
  | { readonly kind: 'unknown'; readonly reason: string };

/** What this run has learnt about one way of finding tasks again. */
export type PathState = 'untested' | 'works' | 'unavailable';

/** A task this run knows exists at the provider, under its external id. */
export interface KnownTask {
  readonly externalTaskId: string;
  readonly taskId: string;
  readonly acceptedAt: number;
}

const PAGE_SIZE = 500;
const MAX_PAGES = 20;
/** Clocks differ between us and the provider; a scan must reach this much further back than the submit. */
const CLOCK_SLACK_MS = 15 * 60_000;

type Look =
  | { readonly kind: 'found'; readonly task: Task; readonly via: 'lookup' | 'list' }
  | { readonly kind: 'not_found'; readonly by: { readonly lookup: boolean; readonly list: boolean } }
  | { readonly kind: 'cannot'; readonly reason: string };

type ScanResult = { readonly kind: 'found'; readonly task: Task } | { readonly kind: 'not_found' } | { readonly kind: 'incomplete' } | { readonly kind: 'unavailable' };

/**
 * Whether a listed task was made before `submittedAt` (this runner's clock): the list is newest
 * first, so a task made after it would have come earlier. One of this run's tasks says so by when
 * it was accepted here; another's `created_at` is on the provider's clock, which may be skewed or
 * count in seconds, so it is trusted only once one of ours on the list has shown how that clock
 * reads against ours (the offset it shows errs towards "newer", never towards "older").
 */
function olderThan(submittedAt: number): (task: Task, known: ReadonlyMap<string, KnownTask>) => boolean {
  let offset: number | undefined;
  return (task, known) => {
    const mine = task.task_info?.external_task_id === undefined ? undefined : known.get(task.task_info.external_task_id);
    if (mine?.taskId === task.task_id) {
      if (task.created_at !== undefined) offset ??= task.created_at - mine.acceptedAt;
      return mine.acceptedAt < submittedAt;
    }
    return offset !== undefined && task.created_at !== undefined && task.created_at - offset < submittedAt - CLOCK_SLACK_MS;
  };
}

/** An abortable wait; false when the run is stopping. */
async function pause(context: RunContext, ms: number): Promise<boolean> {
  if (ms <= 0) return !context.softSignal.aborted;
  try {
    await context.clock.sleep(ms, context.softSignal);
    return true;
  } catch {
    return false;
  }
}

/** How a run finds tasks again by external_task_id; one per run, shared by every job. */
export class TaskFinder {
  lookup: PathState;
  list: PathState;
  /**
   * The provider refused, in this run, a create whose external_task_id it already had: sending an
   * id again then never makes a second task, so a POST that may still be on its way is no reason
   * to hold back (a late first POST and the resend cannot both create one).
   */
  duplicatesRefused = false;
  readonly #known: () => Iterable<KnownTask>;
  #warned = false;

  constructor(known: () => Iterable<KnownTask>, start: { lookup?: PathState; list?: PathState } = {}) {
    this.#known = known;
    this.lookup = start.lookup ?? 'untested';
    this.list = start.list ?? 'untested';
  }

  /**
   * One lookup, for a job about to be submitted for the first time: a run from another folder or
   * machine may have created its task already. Null when not found (which proves nothing here:
   * the job is simply submitted) or when lookups are not available.
   */
  async precheck(context: RunContext, externalTaskId: string): Promise<Task | null> {
    const result = await retrying(context, `look up ${externalTaskId}`, () => this.#lookupOnce(context, externalTaskId));
    return typeof result === 'object' ? result : null;
  }

  /**
   * Looks for the task created (perhaps) by a POST sent at `sentAt` under `externalTaskId`, the
   * attempt having first been submitted at `submittedAt`. Looks several times until the window
   * after `sentAt` has passed; a stopping run gets 'unknown'.
   */
  async reconcile(context: RunContext, externalTaskId: string, times: { sentAt: number; submittedAt: number }): Promise<Finding> {
    const { absenceWindowMs: window, absenceLookups: looks } = context.options;
    let byLookup = 0;
    let byList = 0;
    for (let k = 0; ; k++) {
      // Looks are spread over the window after the POST; once it has passed, they follow each other.
      const at = times.sentAt + (window * Math.min(k, looks - 1)) / Math.max(1, looks - 1);
      if (!(await pause(context, at - context.clock.now()))) return { kind: 'unknown', reason: 'the run stopped before the task could be found or its absence proven' };
      let look: Look;
      try {
        look = await retrying(context, `reconcile ${externalTaskId}`, () => this.#look(context, externalTaskId, times.submittedAt));
      } catch (error) {
        if (!(error instanceof ProviderError)) throw error;
        if (error.errorClass === 'fatal-run') context.stopRun(error);
        return { kind: 'unknown', reason: `the provider gave no definite answer (${error.message})` };
      }
      if (look.kind === 'found') return { kind: 'found', task: look.task, via: look.via };
      if (look.kind === 'cannot') return { kind: 'unknown', reason: look.reason };
      if (look.by.lookup) byLookup += 1;
      if (look.by.list) byList += 1;
      if (k + 1 >= looks && context.clock.now() >= times.sentAt + window) break;
    }
    if (this.lookup === 'untested') await this.#proveLookups(context);
    if ((this.lookup === 'works' && byLookup >= looks) || (this.list === 'works' && byList >= looks)) return { kind: 'absent' };
    return { kind: 'unknown', reason: this.#whyUnproven() };
  }

  /** Lookup first; the list when lookups are unavailable or not yet proven. */
  async #look(context: RunContext, externalTaskId: string, submittedAt: number): Promise<Look> {
    const found = await this.#lookupOnce(context, externalTaskId);
    if (typeof found === 'object' && found !== null) return { kind: 'found', task: found, via: 'lookup' };
    const byLookup = found === null;
    if (byLookup && this.lookup === 'works') return { kind: 'not_found', by: { lookup: true, list: false } };
    if (this.list === 'unavailable') {
      return byLookup ? { kind: 'not_found', by: { lookup: true, list: false } } : { kind: 'cannot', reason: 'the provider offers neither lookups by external_task_id nor the task list here' };
    }
    const scan = await this.#scan(context, externalTaskId, submittedAt);
    if (scan.kind === 'found') return { kind: 'found', task: scan.task, via: 'list' };
    if (scan.kind === 'not_found' || byLookup) return { kind: 'not_found', by: { lookup: byLookup, list: scan.kind === 'not_found' } };
    return {
      kind: 'cannot',
      reason:
        scan.kind === 'incomplete'
          ? `lookups by external_task_id are not available and the task list did not reach tasks older than this job's submit (${MAX_PAGES} pages of ${PAGE_SIZE}, or the provider stopped answering pages)`
          : 'the provider offers neither lookups by external_task_id nor the task list here',
    };
  }

  /** The task, null for "not found", or 'unavailable' when this provider cannot look tasks up by external id. */
  async #lookupOnce(context: RunContext, externalTaskId: string): Promise<Task | null | 'unavailable'> {
    if (this.lookup === 'unavailable') return 'unavailable';
    await context.limiter.take(context.hardSignal);
    try {
      // The client answers null for "not found" and for a task named by another external id.
      const task = await context.client.findByExternalId(externalTaskId, { signal: context.hardSignal });
      if (task) this.lookup = 'works';
      return task;
    } catch (error) {
      if (error instanceof ProviderError && (error.code === 'unsupported' || error.errorClass === 'fatal-job')) {
        this.#unavailable(context, 'lookup', error.message);
        return 'unavailable';
      }
      throw error;
    }
  }

  /** Pages through the list, newest first, until the task, a task older than the submit, or the end. */
  async #scan(context: RunContext, externalTaskId: string, submittedAt: number): Promise<ScanResult> {
    const known = new Map<string, KnownTask>();
    for (const task of this.#known()) known.set(task.externalTaskId, task);
    const older = olderThan(submittedAt);
    let previousFull = false;
    for (let pageNum = 1; pageNum <= MAX_PAGES; pageNum++) {
      await context.limiter.take(context.hardSignal);
      let page: Task[];
      try {
        page = await context.client.listTasks({ pageNum, pageSize: PAGE_SIZE, signal: context.hardSignal });
      } catch (error) {
        if (error instanceof ProviderError && (error.code === 'unsupported' || error.errorClass === 'fatal-job')) {
          this.#unavailable(context, 'list', error.message);
          return { kind: 'unavailable' };
        }
        throw error;
      }
      const ours = (task: Task) => task.task_info?.external_task_id !== undefined && known.get(task.task_info.external_task_id)?.taskId === task.task_id;
      if (page.some(ours)) this.list = 'works';
      const match = page.find((task) => task.task_info?.external_task_id === externalTaskId);
      if (match) {
        this.list = 'works';
        return { kind: 'found', task: match };
      }
      const reachedOlder = page.some((task) => older(task, known));
      // A short page is the end of the list; an empty one after a full one may be a provider that
      // stopped answering (a truncated scan), which proves nothing.
      const ended = (page.length > 0 && page.length < PAGE_SIZE) || (page.length === 0 && !previousFull);
      if (reachedOlder || ended) return { kind: 'not_found' };
      if (page.length === 0) return { kind: 'incomplete' };
      previousFull = true;
    }
    return { kind: 'incomplete' };
  }

  /**
   * Looks up a task known to exist, by its external id: the oldest of this run's, else one the
   * account's task list shows. Finding it proves lookups work here; not finding one the provider
   * has had for longer than the window proves they do not.
   */
  async #proveLookups(context: RunContext): Promise<void> {
    let oldest: KnownTask | undefined;
    for (const task of this.#known()) if (!oldest || task.acceptedAt < oldest.acceptedAt) oldest = task;
    try {
      oldest ??= await this.#accountTask(context);
      if (!oldest) return;
      const probe = oldest;
      const found = await retrying(context, `look up ${probe.externalTaskId}`, () => this.#lookupOnce(context, probe.externalTaskId));
      if (found === null && probe.acceptedAt <= context.clock.now() - context.options.absenceWindowMs) {
        this.#unavailable(context, 'lookup', `task ${probe.taskId} (external_task_id ${probe.externalTaskId}) exists but a lookup by its external id does not find it`);
      }
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      if (error.errorClass === 'fatal-run') context.stopRun(error);
    }
  }

  /** A task with an external id from the first page of the account's list (made by any run or tool). */
  async #accountTask(context: RunContext): Promise<KnownTask | undefined> {
    if (this.list === 'unavailable') return undefined;
    await context.limiter.take(context.hardSignal);
    let page: Task[];
    try {
      page = await context.client.listTasks({ pageNum: 1, pageSize: 30, signal: context.hardSignal });
    } catch (error) {
      if (error instanceof ProviderError && (error.code === 'unsupported' || error.errorClass === 'fatal-job')) {
        this.#unavailable(context, 'list', error.message);
        return undefined;
      }
      throw error;
    }
    const task = page.find((t) => t.task_info?.external_task_id !== undefined);
    const externalTaskId = task?.task_info?.external_task_id;
    return task && externalTaskId !== undefined ? { externalTaskId, taskId: task.task_id, acceptedAt: task.created_at ?? context.clock.now() } : undefined;
  }

  #unavailable(context: RunContext, path: 'lookup' | 'list', detail: string): void {
    if (this[path] === 'unavailable') return;
    this[path] = 'unavailable';
    context.logger.debug(`${path === 'lookup' ? 'lookups by external_task_id' : 'the task list'}: not available here (${detail})`);
    if (this.lookup === 'unavailable' && this.list === 'unavailable' && !this.#warned) {
      this.#warned = true;
      context.logger.warn('this provider offers neither lookups by external_task_id nor the task list: a submit whose answer is lost cannot be checked, so such a job is left unconfirmed (never resent automatically).');
    }
  }

  #whyUnproven(): string {
    if (this.lookup === 'works' || this.list === 'works') return 'the task was not found, but not over enough looks to prove it is absent';
    if (this.lookup === 'unavailable' && this.list === 'unavailable') return 'the provider offers neither lookups by external_task_id nor the task list here';
    return 'not found, but lookups here have not yet been seen to find a task of this account, so "not found" proves nothing';
  }
}
