import type { TaskErrorInfo } from "../task/record.js";

/** The lifecycle transitions that are recorded as events. */
export type TaskEventType =
  | "enqueued"
  | "executing"
  | "completed"
  | "error"
  | "retry"
  | "cancelled"
  | "expired"
  | "requeued"
  | "schedule-created"
  | "schedule-updated"
  | "schedule-paused"
  | "schedule-resumed"
  | "schedule-deleted";

/**
 * One recorded lifecycle transition of a task, or a change to a schedule:
 * a `schedule-*` event carries the schedule's id as `taskId`, the task it
 * enqueues as `name` and attempt 0.
 */
export interface TaskEvent {
  /** Position in the event log; increases with every event a backend stores. */
  seq: number;
  taskId: string;
  type: TaskEventType;
  /** When it happened, in ms since the epoch. */
  at: number;
  queue: string;
  name: string;
  /** The attempt it belongs to (0 before the first claim). */
  attempt: number;
  /** The error of an `error` event, or the reason of a `cancelled` one. */
  error?: TaskErrorInfo;
  /** For `retry`: when the next attempt may start. */
  runAt?: number;
}
