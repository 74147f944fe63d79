// The OmniQ facade's schedule operations: make, pause, resume, delete and
// list schedules. Each change is a compare-and-set on the stored record, so
// it never undoes a scheduler's write, and each writes its event.
import { InvalidArgumentError, UnknownScheduleError } from "../errors.js";
import {
  decodeSchedule,
  encodeSchedule,
  type MissedPolicy,
  type ScheduleRecord,
  type TaskTemplate,
} from "../schedule/record.js";
import { checkCron, nextFiring, type Trigger } from "../schedule/trigger.js";
import type { ScheduleEvent, Storage } from "../storage/contract.js";
import type { NewTask } from "../task/record.js";
import { type Duration, toMs } from "../util/duration.js";

/** When a schedule fires: a cron expression, or a fixed interval. */
export type ScheduleSpec = (
  | {
      /** Five fields (minute hour day month weekday), or six with seconds first. */
      cron: string;
      /** An IANA time zone for the cron fields. @default UTC */
      timezone?: string;
    }
  | {
      /** Fires every this long, first at `startAt`. */
      interval: Duration;
      /** The first tick. @default now plus one interval */
      startAt?: Date | number;
    }
) & {
  /** A name of your own for the schedule; making one with the same id again replaces it. */
  id?: string;
  /**
   * Ticks that came while no worker ran: `skip` them, run `once` for all of
   * them, or run `each`. @default "once"
   */
  missed?: MissedPolicy;
};

/** A schedule as `listSchedules` shows it. */
export interface ScheduleInfo {
  id: string;
  /** The task it enqueues, and where. */
  name: string;
  queue: string;
  trigger: Trigger;
  missed: MissedPolicy;
  paused: boolean;
  nextRunAt: Date;
  lastRunAt: Date | null;
  /** The task of the newest tick, for `getResult`. */
  lastTaskId: string | null;
}

const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,100}$/;
const POLICIES: readonly MissedPolicy[] = ["skip", "once", "each"];
/** Compare-and-set attempts before a change gives up on a record others keep writing. */
const TRIES = 20;

/** Makes (or replaces) a schedule of `task`, the task built once for every tick. */
export async function createSchedule(
  storage: Storage,
  spec: ScheduleSpec,
  task: NewTask,
  now: number,
): Promise<string> {
  const id = spec.id ?? task.id;
  if (!ID_PATTERN.test(id)) {
    throw new InvalidArgumentError(
      `schedule id: ${JSON.stringify(id)} is not allowed; use 1 to 100 letters, digits and _ . : -`,
    );
  }
  const trigger = pickTrigger(spec, now);
  const missed = spec.missed ?? "once";
  if (!POLICIES.includes(missed)) {
    throw new InvalidArgumentError(
      `schedule missed: ${JSON.stringify(missed)} is not allowed; use "skip", "once" or "each"`,
    );
  }

  const record: ScheduleRecord = {
    id,
    trigger,
    missed,
    paused: false,
    template: templateOf(task),
    nextRunAt: nextFiring(trigger, now),
    lastRunAt: null,
    lastTaskId: null,
    pending: null,
    createdAt: now,
  };
  const event = eventOf(record, "schedule-created");
  if ((await storage.putSchedule(id, encodeSchedule(record), null, event)) !== null) return id;

  // The id is taken: replace that schedule's trigger and task, keeping its history.
  await change(storage, id, "schedule-updated", (stored) => ({
    ...record,
    paused: stored.paused,
    lastRunAt: stored.lastRunAt,
    lastTaskId: stored.lastTaskId,
    pending: stored.pending,
    createdAt: stored.createdAt,
  }));
  return id;
}

export function pauseSchedule(storage: Storage, id: string): Promise<void> {
  return change(storage, id, "schedule-paused", (stored) => ({ ...stored, paused: true }));
}

/** Resumes a schedule from its next tick after now: ticks while it was paused do not fire. */
export function resumeSchedule(storage: Storage, id: string, now: number): Promise<void> {
  return change(storage, id, "schedule-resumed", (stored) => ({
    ...stored,
    paused: false,
    nextRunAt: stored.paused ? nextFiring(stored.trigger, now - 1) : stored.nextRunAt,
  }));
}

export async function deleteSchedule(storage: Storage, id: string): Promise<void> {
  const stored = await storage.getSchedule(id);
  if (!stored) throw new UnknownScheduleError(id);
  const event = eventOf(decodeSchedule(stored.data), "schedule-deleted");
  if (!(await storage.deleteSchedule(id, event))) throw new UnknownScheduleError(id);
}

export async function listSchedules(storage: Storage): Promise<ScheduleInfo[]> {
  return (await storage.listSchedules()).map(({ data }) => infoOf(decodeSchedule(data)));
}

export async function getSchedule(storage: Storage, id: string): Promise<ScheduleInfo> {
  const stored = await storage.getSchedule(id);
  if (!stored) throw new UnknownScheduleError(id);
  return infoOf(decodeSchedule(stored.data));
}

/**
 * The id of the schedule's newest run, waiting (polling every `pollMs`) for
 * its first one until `deadline`; null when the deadline passed first.
 */
export async function newestRun(
  storage: Storage,
  id: string,
  deadline: number,
  pollMs: number,
): Promise<string | null> {
  for (;;) {
    const { lastTaskId } = await getSchedule(storage, id);
    if (lastTaskId !== null) return lastTaskId;
    if (Date.now() >= deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Rewrites a stored schedule with `update`, trying again while schedulers write it too. */
async function change(
  storage: Storage,
  id: string,
  type: ScheduleEvent["type"],
  update: (stored: ScheduleRecord) => ScheduleRecord,
): Promise<void> {
  for (let attempt = 0; attempt < TRIES; attempt++) {
    const stored = await storage.getSchedule(id);
    if (!stored) throw new UnknownScheduleError(id);

    const next = update(decodeSchedule(stored.data));
    const written = await storage.putSchedule(
      id,
      encodeSchedule(next),
      stored.version,
      eventOf(next, type),
    );
    if (written !== null) return;
  }
  throw new InvalidArgumentError(
    `schedule ${id}: it kept changing under ${TRIES} attempts to write it; try again`,
  );
}

function pickTrigger(spec: ScheduleSpec, now: number): Trigger {
  if ("cron" in spec && "interval" in spec) {
    throw new InvalidArgumentError("schedule: give either cron or interval, not both");
  }
  if ("cron" in spec) {
    if (typeof spec.cron !== "string") {
      throw new InvalidArgumentError(`schedule cron: ${String(spec.cron)} is not a string`);
    }
    const timezone = spec.timezone ?? null;
    checkCron(spec.cron, timezone, "schedule");
    return { type: "cron", expression: spec.cron, timezone };
  }
  if ("interval" in spec) {
    const everyMs = toMs(spec.interval, "schedule interval");
    if (everyMs < 1) {
      throw new InvalidArgumentError("schedule interval: must be at least 1 ms");
    }
    const start = spec.startAt instanceof Date ? spec.startAt.getTime() : spec.startAt;
    if (start !== undefined && !Number.isFinite(start)) {
      throw new InvalidArgumentError(
        `schedule startAt: ${String(spec.startAt)} is not a time; use a Date or ms since the epoch`,
      );
    }
    return { type: "interval", everyMs, startAt: start ?? now + everyMs };
  }
  throw new InvalidArgumentError(
    'schedule: give { cron: "…" } or { interval: "…" } to say when it fires',
  );
}

function templateOf(task: NewTask): TaskTemplate {
  const { id: _id, runAt, createdAt: _createdAt, expiresAt, ...rest } = task;
  return { ...rest, ttlMs: expiresAt === null ? null : expiresAt - runAt };
}

function eventOf(record: ScheduleRecord, type: ScheduleEvent["type"]): ScheduleEvent {
  return { type, queue: record.template.queue, name: record.template.name };
}

function infoOf(record: ScheduleRecord): ScheduleInfo {
  return {
    id: record.id,
    name: record.template.name,
    queue: record.template.queue,
    trigger: record.trigger,
    missed: record.missed,
    paused: record.paused,
    nextRunAt: new Date(record.nextRunAt),
    lastRunAt: record.lastRunAt === null ? null : new Date(record.lastRunAt),
    lastTaskId: record.lastTaskId,
  };
}
