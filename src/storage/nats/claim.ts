// Claim: the handle's claim index names the due tasks in claim order; each
// is read and taken by compare-and-set on its record, so when several
// handles reach for the same task exactly one wins and the others move on
// to the next candidates. Only then are the new index entries and the
// executing events written, all in one round trip. Queues with flow
// controls are claimed one at a time, within permits (permits.ts).
import type { ClaimedTask, TaskRecord } from "../../task/record.js";
import { isWaiting } from "../../task/state.js";
import type { ClaimRequest } from "../contract.js";
import { hold, type NatsContext, readTask, remember, writeEntry, writeTask } from "./context.js";
import { appendEvents } from "./events.js";
import { WriteConflict } from "./jetstream.js";
import { giveBack, reserve } from "./permits.js";
import { copyRecord, type Versioned } from "./records.js";
import type { IndexTail } from "./tail.js";
import { claimChange, type EventDraft } from "./transitions.js";

/** A task this claim took, with the record written and the events to log. */
export interface Taken {
  key: string;
  after: Versioned;
  events: EventDraft[];
}

/** Whether the record itself (not the index) says the task may be claimed now. */
function claimable(task: TaskRecord, request: ClaimRequest, now: number): boolean {
  return (
    isWaiting(task.state) &&
    task.runAt <= now &&
    (task.expiresAt === null || task.expiresAt > now) &&
    request.queues.includes(task.queue) &&
    request.workers.includes(task.worker)
  );
}

export async function claim(ctx: NatsContext, request: ClaimRequest): Promise<ClaimedTask[]> {
  if (request.limit <= 0 || request.queues.length === 0) return [];
  const index = await ctx.index();
  const now = ctx.clock.now();

  // While the view catches up, the records of the likely winners are read
  // already: the picks after the catch-up are nearly always the same tasks,
  // and compare-and-set catches a read that turns out stale.
  const early = new Map<string, Promise<Versioned | null>>();
  for (const pick of index.view.pick(request, now, request.limit, ctx.claiming)) {
    const read = readTask(ctx, pick.key);
    read.catch(() => undefined);
    early.set(pick.key, read);
  }
  await index.sync();

  // Flow controls come with the index, so finding there are none costs nothing more.
  const { controls } = index.view;
  const taken =
    controls.size > 0 && request.queues.some((queue) => controls.has(queue))
      ? await claimControlled(ctx, index, request, now, early)
      : await takeTasks(ctx, index, request, now, early);
  return taken.map(({ after }) => copyRecord(after.stored.task) as ClaimedTask);
}

/**
 * Takes up to `request.limit` due tasks the view names, with their index
 * entries and events written; `early` holds reads made before the view caught up.
 */
export async function takeTasks(
  ctx: NatsContext,
  index: IndexTail,
  request: ClaimRequest,
  now: number,
  early: ReadonlyMap<string, Promise<Versioned | null>> = new Map(),
): Promise<Taken[]> {
  const taken: Taken[] = [];
  const tried = new Set<string>();
  try {
    // Candidates that another handle took first are replaced by the next ones in order.
    while (taken.length < request.limit) {
      const skip = new Set([...ctx.claiming, ...tried]);
      const picks = index.view.pick(request, now, request.limit - taken.length, skip);
      if (picks.length === 0) break;

      for (const pick of picks) {
        tried.add(pick.key);
        ctx.claiming.add(pick.key);
      }
      const results = await Promise.allSettled(
        picks.map((pick) => takeOne(ctx, pick.key, request, now, early.get(pick.key))),
      );
      for (const result of results) {
        if (result.status === "fulfilled" && result.value) taken.push(result.value);
      }
      const failure = results.find((r) => r.status === "rejected");
      if (failure) {
        // What was taken stays leased to nobody who knows: index it, so its lease runs out.
        await Promise.allSettled(taken.map(({ key, after }) => writeEntry(ctx, key, after)));
        throw failure.reason;
      }
    }

    await Promise.all([
      ...taken.map(({ key, after }) => writeEntry(ctx, key, after)),
      appendEvents(
        ctx,
        taken.flatMap(({ events }) => events),
      ),
    ]);
  } finally {
    for (const key of tried) ctx.claiming.delete(key);
  }
  return taken;
}

/**
 * The claim when some of the queues have controls: queue by queue, in the
 * request's order, a paused one skipped and a limited one taken from only
 * as far as the permits reserved for this claim allow (see permits.ts).
 */
async function claimControlled(
  ctx: NatsContext,
  index: IndexTail,
  request: ClaimRequest,
  now: number,
  early: ReadonlyMap<string, Promise<Versioned | null>>,
): Promise<Taken[]> {
  const taken: Taken[] = [];
  for (const queue of new Set(request.queues)) {
    const remaining = request.limit - taken.length;
    if (remaining <= 0) break;
    const control = index.view.controls.get(queue);
    if (control?.paused) continue;

    const one = { ...request, queues: [queue], limit: remaining };
    if (!control || (control.concurrency === null && control.rateLimit === null)) {
      taken.push(...(await takeTasks(ctx, index, one, now, early)));
      continue;
    }

    // Permits are reserved only for tasks there are, so an idle queue costs no write.
    const wanted = index.view.pick(one, now, remaining, ctx.claiming).length;
    if (wanted === 0) continue;
    const reservation = await reserve(ctx, index, queue, wanted, now);
    if (reservation.granted === 0) continue;

    let used = 0;
    try {
      const got = await takeTasks(ctx, index, { ...one, limit: reservation.granted }, now, early);
      used = got.length;
      taken.push(...got);
    } finally {
      await giveBack(ctx, queue, reservation, used);
    }
  }
  return taken;
}

/** Takes one task by compare-and-set; `early` is a read made before the view caught up. */
async function takeOne(
  ctx: NatsContext,
  key: string,
  request: ClaimRequest,
  now: number,
  early: Promise<Versioned | null> | undefined,
): Promise<Taken | null> {
  let current = await (early ?? readTask(ctx, key));
  for (let fresh = early === undefined; ; fresh = true) {
    if (current && claimable(current.stored.task, request, now)) {
      const change = claimChange(current, request, now);
      try {
        const after = await writeTask(ctx, key, change.next, current.rev);
        hold(ctx, after);
        return { key, after, events: change.events };
      } catch (error) {
        if (!(error instanceof WriteConflict)) throw error;
        if (fresh) return null; // another handle won it
      }
    } else if (fresh) {
      // Usually another handle's claim, whose index entry is on its way; `maintain` checks later.
      remember(ctx.suspects, key);
      return null;
    }
    current = await readTask(ctx, key);
  }
}
