import type { QueueControl } from "../contract.js";
import type { Query } from "./db.js";
import type { ControlRow } from "./sql/controls.js";
import type { Statements } from "./statements.js";

/** Whether `control` says anything the defaults (running, no limits) do not. */
export function isDefaultControl(control: QueueControl | null): boolean {
  return (
    control === null ||
    (!control.paused && control.concurrency === null && control.rateLimit === null)
  );
}

/**
 * Stores a queue's controls, or removes them for the defaults; either way
 * the queue gets a ready signal. Answers whether the queue now has controls.
 */
export async function writeControl(
  query: Query,
  statements: Statements,
  queue: string,
  control: QueueControl | null,
): Promise<boolean> {
  if (control === null || isDefaultControl(control)) {
    await query("setQueueControl", statements.deleteControl, [queue]);
    return false;
  }

  await query("setQueueControl", statements.putControl, [
    queue,
    control.paused,
    control.concurrency,
    control.rateLimit?.max ?? null,
    control.rateLimit === null ? null : Math.round(control.rateLimit.intervalMs),
  ]);
  return true;
}

/** Every stored control, by queue. */
export async function readControls(
  query: Query,
  statements: Statements,
): Promise<Record<string, QueueControl>> {
  const rows = await query<ControlRow>("queueControls", statements.listControls);
  const controls: Record<string, QueueControl> = {};
  for (const row of rows) {
    controls[row.queue] = {
      paused: row.paused,
      concurrency: row.concurrency,
      rateLimit:
        row.rate_max === null || row.rate_interval_ms === null
          ? null
          : { max: row.rate_max, intervalMs: row.rate_interval_ms },
    };
  }
  return controls;
}
