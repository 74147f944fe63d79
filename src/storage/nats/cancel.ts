// Cancel: a waiting or blocked task is cancelled outright; a running one is
// flagged, and its worker learns it from its next heartbeat or at once from
// the signal.
import { isFinal, isWaiting } from "../../task/state.js";
import type { CancelOutcome } from "../contract.js";
import { mutate, type NatsContext, writeEntry } from "./context.js";
import { appendEvents } from "./events.js";
import { taskKey } from "./names.js";
import { finishedSignal, type Versioned } from "./records.js";
import { noteFinished } from "./results.js";
import { type Change, cancelRequestChange, cancelWaitingChange } from "./transitions.js";

export async function cancel(ctx: NatsContext, id: string, reason: string): Promise<CancelOutcome> {
  const key = taskKey(id);
  const now = ctx.clock.now();

  // The record may change between the read and the write (claimed, settled):
  // `decide` is asked again on each fresh read, and says what it saw.
  // A task never read stays "unknown".
  const seen: { outcome: CancelOutcome } = { outcome: "unknown" };
  const decide = (record: Versioned): Change | null => {
    const { state, cancelRequested } = record.stored.task;
    if (isWaiting(state) || state === "blocked") {
      seen.outcome = "cancelled";
      return cancelWaitingChange(record, reason, now);
    }
    seen.outcome = state === "running" ? "requested" : "finished";
    if (state !== "running") return null;
    // The newest reason is the one kept for when the lease runs out.
    if (cancelRequested && record.stored.cancelReason === reason) return null;
    return { next: cancelRequestChange(record, reason), events: [] };
  };

  const done = await mutate(ctx, key, decide);
  if (seen.outcome === "requested") {
    ctx.signals.send([{ type: "cancel", id }]);
    return seen.outcome;
  }
  if (!done) return seen.outcome;
  const finished = [{ key, after: done.after }];
  await Promise.all([
    writeEntry(ctx, key, done.after),
    appendEvents(ctx, done.change.events),
    isFinal(done.after.stored.task.state) ? noteFinished(ctx, finished) : Promise.resolve(),
  ]);
  ctx.signals.send([finishedSignal(finished)]);
  return seen.outcome;
}
