import type { MaintenanceOptions, MaintenanceReport } from "../contract.js";
import type { Query } from "./db.js";
import { ms } from "./rows.js";
import type { Statements } from "./statements.js";

/** Offers that lapsed this long ago are deleted; a live worker renews its own long before. */
const LAPSED_OFFER_MS = 60_000;

/**
 * `Storage.maintain`: five statements, each its own transaction; the last
 * drops the offers that lapsed a while ago (see sql/handover.ts), which a
 * worker that died leaves behind.
 */
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
  // No handle has the empty id: only lapsed offers go.
  await query("maintain", statements.withdrawOffers, ["", now - LAPSED_OFFER_MS]);

  return {
    leasesExpired: leases?.expired ?? 0,
    tasksExpired: tasks?.expired ?? 0,
    resultsDeleted: results?.deleted ?? 0,
    eventsDeleted: events?.deleted ?? 0,
  };
}
