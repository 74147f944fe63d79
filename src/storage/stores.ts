import type { TaskEvent } from "../events/types.js";

/*
 * The two small stores a backend serves when results or events live apart
 * from the queue (the `results` and `events` settings). The queue's
 * `Storage` stays the truth about every task; these keep copies that are
 * read instead of the queue's (see split/split-storage.ts for how they are
 * written and why in that order). Neither has a clock: callers pass times.
 */

/** One completed attempt's result, as a `ResultStore` keeps it. */
export interface StoredResult {
  /** The task's id. */
  id: string;
  /** The fencing token of the attempt that produced it. */
  token: number;
  /** The encoded result (see codec). */
  result: string;
  /** When it may be deleted, in ms since the epoch. */
  expiresAt: number;
}

/**
 * Results of completed tasks, kept by task id and fencing token: an attempt
 * whose lease ran out writes under its own (older) token, so it never hides
 * the result of the attempt that the queue recorded as the one that
 * completed the task.
 */
export interface ResultStore {
  /** Stores results; one already stored under the same id and token is replaced. */
  put(results: readonly StoredResult[]): Promise<void>;

  /** The result stored for the task's attempt with this token, or null. */
  get(id: string, token: number): Promise<string | null>;

  /** Deletes the results whose `expiresAt` is at or before `now`; answers how many. */
  purge(now: number): Promise<number>;

  /** Releases connections and files. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Copies of the queue's lifecycle events, kept with the queue's own `seq`,
 * so a subscriber follows them exactly as it would follow the queue's log.
 */
export interface EventStore {
  /**
   * Stores events given in ascending `seq`. An event whose `seq` is already
   * stored, or lower than the greatest one stored, is skipped: copying the
   * same events twice (two processes at once) stores them once.
   */
  append(events: readonly TaskEvent[]): Promise<void>;

  /** The events of one task, oldest first. */
  taskEvents(taskId: string): Promise<TaskEvent[]>;

  /** Events with `seq` above `afterSeq`, oldest first, at most `limit`. */
  eventsSince(afterSeq: number, limit: number): Promise<TaskEvent[]>;

  /** The greatest `seq` stored, or 0 when there is none. */
  lastEventSeq(): Promise<number>;

  /**
   * Deletes the events whose `at` is at or before `cutoff`, oldest first,
   * and answers how many. Events arrive in about time order, so a store may
   * stop at the first newer one: an event stored out of order (clocks of
   * several machines a little apart) goes a little late.
   */
  purge(cutoff: number): Promise<number>;

  /** Releases connections and files. Safe to call twice. */
  close(): Promise<void>;
}
