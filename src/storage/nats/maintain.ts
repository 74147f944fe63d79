// Housekeeping, in the contract's order. The claim index names the
// candidates (leases run out, time-to-live passed); each is decided on its
// record by compare-and-set, so two handles maintaining at once change and
// count every task once.
import { isFinal, isWaiting } from "../../task/state.js";
import type { MaintenanceOptions, MaintenanceReport, StorageSignal } from "../contract.js";
import { mutate, type NatsContext, writeEntry } from "./context.js";
import { appendEvents, purgeEvents } from "./events.js";
import { tidyIndex } from "./housekeeping.js";
import type { IndexEntry } from "./index-entries.js";
import { finishedSignal, type Versioned } from "./records.js";
import { deleteDueResults, noteFinished } from "./results.js";
import { readySignals } from "./signals.js";
import { type Change, expireChange, loseLeaseChange } from "./transitions.js";

interface Changed {
  key: string;
  after: Versioned;
  events: Change["events"];
}

export async function maintain(
  ctx: NatsContext,
  options: MaintenanceOptions,
): Promise<MaintenanceReport> {
  const index = await ctx.index();
  await index.sync();
  const now = ctx.clock.now();

  const lost = await changeEach(ctx, index.view.expiredLeases(now), (current) => {
    const task = current.stored.task;
    const ran = task.state === "running" && (task.leaseExpiresAt ?? Infinity) <= now;
    return ran ? loseLeaseChange(current, options.maxLeaseLosses, now) : null;
  });
  for (const { after } of lost) ctx.held.delete(after.stored.task.id);

  const expired = await changeEach(ctx, index.view.expiredWaiting(now), (current) => {
    const task = current.stored.task;
    const due = isWaiting(task.state) && task.expiresAt !== null && task.expiresAt <= now;
    return due ? expireChange(current, now) : null;
  });

  const changed = [...lost, ...expired];
  await writeOutcomes(ctx, changed);

  const report: MaintenanceReport = {
    leasesExpired: lost.length,
    tasksExpired: expired.length,
    resultsDeleted: await deleteDueResults(ctx, now),
    eventsDeleted: await purgeEvents(ctx.js, ctx.names, options.eventTtlMs, now),
  };
  await tidyIndex(ctx, index);
  return report;
}

/** Applies `decide` to each candidate's record; answers the changes that were made. */
async function changeEach(
  ctx: NatsContext,
  candidates: readonly IndexEntry[],
  decide: (current: Versioned) => Change | null,
): Promise<Changed[]> {
  const results = await Promise.all(
    candidates.map(async ({ key }) => {
      const done = await mutate(ctx, key, decide);
      // The index was behind its record (a heartbeat just now, say): it is looked at again later.
      if (!done) ctx.suspects.add(key);
      return done && { key, after: done.after, events: done.change.events };
    }),
  );
  return results.filter((r): r is Changed => r !== null);
}

/** Index entries, events, deletion notes and signals of what maintenance changed. */
async function writeOutcomes(ctx: NatsContext, changed: readonly Changed[]): Promise<void> {
  if (changed.length === 0) return;
  const finished = changed.filter(({ after }) => isFinal(after.stored.task.state));
  const waiting = changed.filter(({ after }) => !isFinal(after.stored.task.state));

  await Promise.all([
    ...changed.map(({ key, after }) => writeEntry(ctx, key, after)),
    appendEvents(
      ctx,
      changed.flatMap(({ events }) => events),
    ),
    finished.length > 0 ? noteFinished(ctx, finished) : Promise.resolve(),
  ]);

  const signals: StorageSignal[] = readySignals(
    waiting.map(({ after }) => after.stored.task.queue),
  );
  if (finished.length > 0) signals.push(finishedSignal(finished));
  ctx.signals.send(signals);
}
