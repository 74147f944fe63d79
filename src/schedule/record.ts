// A schedule as the scheduler keeps it in storage (encoded into
// `StoredSchedule.data`), and how one tick's task is made from it.
import type { NewTask } from "../task/record.js";
import type { Trigger } from "./trigger.js";

/** What to do with ticks that came while no scheduler ran. */
export type MissedPolicy = "skip" | "once" | "each";

/** The task a schedule enqueues at each tick, without what differs per tick. */
export type TaskTemplate = Omit<NewTask, "id" | "runAt" | "createdAt" | "expiresAt"> & {
  /** The task's time-to-live from its tick, or null. */
  ttlMs: number | null;
};

/** A tick taken by a scheduler, written before its task is enqueued. */
export interface PendingTicks {
  /** The tick times whose tasks are being enqueued. */
  ticks: number[];
  /** When the scheduler took them: after a while another one may finish the job. */
  since: number;
}

export interface ScheduleRecord {
  id: string;
  trigger: Trigger;
  missed: MissedPolicy;
  paused: boolean;
  template: TaskTemplate;
  /** The next tick to fire. */
  nextRunAt: number;
  /** The newest tick that fired, and the id of its task. */
  lastRunAt: number | null;
  lastTaskId: string | null;
  pending: PendingTicks | null;
  createdAt: number;
}

export function encodeSchedule(record: ScheduleRecord): string {
  return JSON.stringify(record);
}

export function decodeSchedule(data: string): ScheduleRecord {
  return JSON.parse(data) as ScheduleRecord;
}

/**
 * The id of the task of one tick: the same for every scheduler, so that the
 * tick's task is stored once however many of them try.
 */
export function tickTaskId(scheduleId: string, tick: number): string {
  return `${scheduleId}@${tick}`;
}

/** The task of one tick of `record`. */
export function tickTask(record: ScheduleRecord, tick: number, now: number): NewTask {
  const { ttlMs, ...template } = record.template;
  return {
    ...template,
    id: tickTaskId(record.id, tick),
    runAt: tick,
    createdAt: now,
    expiresAt: ttlMs === null ? null : tick + ttlMs,
  };
}
