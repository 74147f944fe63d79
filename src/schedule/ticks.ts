// Which ticks of a due schedule fire now, by its missed-tick policy.
import type { ScheduleRecord } from "./record.js";
import { nextFiring } from "./trigger.js";

/**
 * A tick at most this old counts as on time rather than missed: a scheduler
 * looks at schedules every few hundred ms, and may be slowed by a busy
 * loop or a slow backend.
 */
export const ON_TIME_MS = 5_000;

/** At most this many missed ticks fire in one round under the `each` policy. */
export const MAX_TICKS_PER_ROUND = 1_000;

/** The tick times that fire now (ascending), and the first tick after them. */
export function dueTicks(record: ScheduleRecord, now: number): { ticks: number[]; next: number } {
  const passed: number[] = [];
  let next = record.nextRunAt;
  while (next <= now && passed.length < MAX_TICKS_PER_ROUND) {
    passed.push(next);
    next = nextFiring(record.trigger, next);
  }
  // Under `each`, a backlog longer than one round continues in the next one.
  if (record.missed === "each") return { ticks: passed, next };

  // Otherwise only the newest tick may fire; skip the rest of the backlog.
  while (next <= now) next = nextFiring(record.trigger, next);
  const newest = passed.at(-1);
  if (newest === undefined) return { ticks: [], next };
  const onTime = now - newest <= ON_TIME_MS;
  return { ticks: record.missed === "once" || onTime ? [newest] : [], next };
}
