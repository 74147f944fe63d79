// Fires due schedules: each tick enqueues exactly one task, however many
// schedulers (workers, processes, machines) look at the same storage.
//
// A scheduler first takes the due ticks by writing them into the schedule
// record under compare-and-set, so that only one scheduler takes them. It
// then enqueues each tick's task under an id made from the schedule and the
// tick, and finally advances the record. If it dies between the steps, the
// taken ticks stay in the record; after `staleMs` another scheduler takes
// them over, enqueues those whose task is not stored yet, and advances.
import type { OmniQLogger } from "../config/logger.js";
import { toErrorInfo } from "../errors.js";
import type { Storage } from "../storage/contract.js";
import {
  decodeSchedule,
  encodeSchedule,
  type ScheduleRecord,
  tickTask,
  tickTaskId,
} from "./record.js";
import { dueTicks } from "./ticks.js";

/** Settings of a `Scheduler`. */
export interface SchedulerOptions {
  /** Time source, in ms since the epoch. */
  now: () => number;
  /** After this long, ticks taken by a scheduler that went silent are taken over. */
  staleMs: number;
  log: OmniQLogger;
}

export class Scheduler {
  constructor(
    private readonly storage: Storage,
    private readonly options: SchedulerOptions,
  ) {}

  /**
   * Fires every due schedule once; answers how many tasks it enqueued and
   * when the next schedule is due (Infinity when none is).
   */
  async fireDue(): Promise<{ enqueued: number; nextDueAt: number }> {
    let enqueued = 0;
    let nextDueAt = Number.POSITIVE_INFINITY;
    for (const stored of await this.storage.listSchedules()) {
      const record = decodeSchedule(stored.data);
      try {
        enqueued += await this.fire(stored.id, record, stored.version);
      } catch (error) {
        this.options.log.warn(
          { err: toErrorInfo(error), schedule: stored.id },
          "firing a schedule failed; will retry",
        );
      }
      // `fire` moved `nextRunAt` on if it fired; taken ticks are looked at again when stale.
      const dueAt = record.pending ? record.pending.since + this.options.staleMs : record.nextRunAt;
      if (!record.paused || record.pending) nextDueAt = Math.min(nextDueAt, dueAt);
    }
    return { enqueued, nextDueAt };
  }

  /** Fires one schedule if it is due; leaves `record.nextRunAt` at its next tick. */
  private async fire(id: string, record: ScheduleRecord, version: number): Promise<number> {
    const now = this.options.now();
    if (record.paused && record.pending === null) return 0;

    if (record.pending !== null) {
      if (now - record.pending.since < this.options.staleMs) return 0;
      const { ticks } = record.pending;
      record.pending = null;
      return this.finish(id, record, ticks, record.nextRunAt, version);
    }
    if (record.nextRunAt > now) return 0;

    const { ticks, next } = dueTicks(record, now);
    const enqueued = await this.finish(id, record, ticks, next, version);
    record.nextRunAt = next;
    return enqueued;
  }

  /** Takes `ticks` under compare-and-set, enqueues their tasks, then advances the record. */
  private async finish(
    id: string,
    record: ScheduleRecord,
    ticks: number[],
    next: number,
    version: number,
  ): Promise<number> {
    const now = this.options.now();
    const taken: ScheduleRecord = { ...record, nextRunAt: next, pending: { ticks, since: now } };
    const takenVersion = await this.storage.putSchedule(id, encodeSchedule(taken), version);
    if (takenVersion === null) return 0; // another scheduler got there first

    const enqueued = await this.enqueueTicks(taken, ticks, now);

    const newest = ticks.at(-1);
    const advanced: ScheduleRecord = {
      ...taken,
      pending: null,
      lastRunAt: newest ?? record.lastRunAt,
      lastTaskId: newest === undefined ? record.lastTaskId : tickTaskId(id, newest),
    };
    await this.storage.putSchedule(id, encodeSchedule(advanced), takenVersion);
    return enqueued;
  }

  /**
   * Stores each tick's task unless it is already stored: a scheduler taking
   * over may find that the one before it got that far.
   */
  private async enqueueTicks(record: ScheduleRecord, ticks: number[], now: number) {
    let enqueued = 0;
    for (const tick of ticks) {
      if (await this.storage.getTask(tickTaskId(record.id, tick))) continue;
      try {
        await this.storage.enqueue([tickTask(record, tick, now)]);
        enqueued += 1;
      } catch (error) {
        // Stored meanwhile by the scheduler we took over from: the tick is done.
        if (!(await this.storage.getTask(tickTaskId(record.id, tick)))) throw error;
      }
    }
    return enqueued;
  }
}
