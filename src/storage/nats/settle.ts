// Settle: each settlement is a compare-and-set on the record this handle
// wrote when it claimed (or last heartbeated) the task, checked against the
// lease's token; then, for all of them at once, the index entries, the
// events and the deletion notes of the tasks that finished.
import { isFinal } from "../../task/state.js";
import type { Settlement, StorageSignal } from "../contract.js";
import { mutate, type NatsContext, writeEntry } from "./context.js";
import { appendEvents } from "./events.js";
import { holds } from "./lease.js";
import { taskKey } from "./names.js";
import { finishedSignal, type Versioned } from "./records.js";
import { noteFinished } from "./results.js";
import { readySignals } from "./signals.js";
import { type EventDraft, settleChange } from "./transitions.js";

interface Applied {
  key: string;
  after: Versioned;
  events: EventDraft[];
}

export async function settle(
  ctx: NatsContext,
  settlements: readonly Settlement[],
): Promise<boolean[]> {
  const now = ctx.clock.now();

  // Settlements of one task run one after another, in the order given; different tasks at once.
  const byTask = new Map<string, number[]>();
  settlements.forEach((s, i) => {
    byTask.set(s.id, [...(byTask.get(s.id) ?? []), i]);
  });
  const applied: (Applied | null)[] = settlements.map(() => null);
  await Promise.all(
    [...byTask.values()].map(async (positions) => {
      for (const i of positions)
        applied[i] = await settleOne(ctx, settlements[i] as Settlement, now);
    }),
  );

  const done = applied.filter((a): a is Applied => a !== null);
  const finished = done.filter(({ after }) => isFinal(after.stored.task.state));
  await Promise.all([
    ...done.map(({ key, after }) => writeEntry(ctx, key, after)),
    appendEvents(
      ctx,
      done.flatMap(({ events }) => events),
    ),
    finished.length > 0 ? noteFinished(ctx, finished) : Promise.resolve(),
  ]);

  const signals: StorageSignal[] = [];
  if (finished.length > 0) signals.push(finishedSignal(finished));
  const retrying = done.filter(({ after }) => !isFinal(after.stored.task.state));
  signals.push(...readySignals(retrying.map(({ after }) => after.stored.task.queue)));
  ctx.signals.send(signals);

  return applied.map((a) => a !== null);
}

async function settleOne(
  ctx: NatsContext,
  settlement: Settlement,
  now: number,
): Promise<Applied | null> {
  const key = taskKey(settlement.id);
  const done = await mutate(
    ctx,
    key,
    (current) => (holds(current, settlement) ? settleChange(current, settlement, now) : null),
    ctx.held.get(settlement.id),
  );
  if (!done) return null;

  ctx.held.delete(settlement.id);
  return { key, after: done.after, events: done.change.events };
}
