import type { MaintenanceOptions, MaintenanceReport } from "../contract.js";
import type { ScriptArg } from "./connection.js";
import type { ScriptName } from "./scripts/index.js";

/** Entries one housekeeping script reads at most, so none blocks the server for long. */
export const MAINTAIN_BATCH = 500;

/** Log members one script reads at most: each holds up to 500 events. */
const EVENT_MEMBER_BATCH = 10;

/** Runs a writing script and answers its result, delivering its signals. */
export type WriteScript = (name: ScriptName, args: ScriptArg[]) => Promise<unknown>;

/**
 * Runs one step in batches until a batch comes back short. Each batch is
 * its own atomic script; between them other clients go on working.
 */
async function inBatches(
  write: WriteScript,
  name: ScriptName,
  base: ScriptArg[],
  extra: ScriptArg[] = [],
  batch = MAINTAIN_BATCH,
): Promise<number> {
  let total = 0;
  for (;;) {
    const [changed, read] = (await write(name, [...base, batch, ...extra])) as [number, number];
    total += changed;
    if (read < batch) return total;
  }
}

/**
 * The four steps of `maintain`, in the contract's order. `base` gives each
 * script its prefix, origin and now; now is read once per step.
 */
export async function maintain(
  write: WriteScript,
  base: () => ScriptArg[],
  options: MaintenanceOptions,
  now: () => number,
): Promise<MaintenanceReport> {
  const leasesExpired = await inBatches(write, "omniqExpireLeases", base(), [
    options.maxLeaseLosses,
  ]);
  const tasksExpired = await inBatches(write, "omniqExpireWaiting", base());
  const resultsDeleted = await inBatches(write, "omniqPurgeTasks", base());
  const cutoff = now() - options.eventTtlMs;
  const eventsDeleted = await inBatches(
    write,
    "omniqPurgeEvents",
    base(),
    [cutoff],
    EVENT_MEMBER_BATCH,
  );
  return { leasesExpired, tasksExpired, resultsDeleted, eventsDeleted };
}
