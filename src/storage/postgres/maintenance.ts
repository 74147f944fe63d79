import type { MaintenanceOptions, MaintenanceReport } from "../contract.js";
import type { Query } from "./db.js";
import { ms } from "./rows.js";
import type { Statements } from "./statements.js";

/** `Storage.maintain`: four statements, each its own transaction. */
export async function maintain(
  query: Query,
  statements: Statements,
  now: number,
  options: MaintenanceOptions,
): Promise<MaintenanceReport> {
  // Leases first, as the contract orders it: a task handed back here may
  // then expire in the next step if its time-to-live has passed too.
  const [leases] = await query<{ expired: number }>("maintain", statements.expireLeases, [
    now,
    options.maxLeaseLosses,
  ]);
  const [tasks] = await query<{ expired: number }>("maintain", statements.expireTasks, [now]);
  const [results] = await query<{ deleted: number }>("maintain", statements.purgeResults, [now]);
  const [events] = await query<{ deleted: number }>("maintain", statements.purgeEvents, [
    now,
    ms(options.eventTtlMs),
  ]);

  return {
    leasesExpired: leases?.expired ?? 0,
    tasksExpired: tasks?.expired ?? 0,
    resultsDeleted: results?.deleted ?? 0,
    eventsDeleted: events?.deleted ?? 0,
  };
}
