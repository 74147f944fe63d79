// Lookups for inspection. A single task is one direct get. Listing and
// counting read every record of the store (KV keeps no secondary index),
// so they cost in proportion to the tasks kept: fine for dashboards and
// tests, not for a hot loop. Blocked and running tasks are listed through
// the claim index instead, at the cost of what there is of them.
import type { TaskRecord } from "../../task/record.js";
import type { TaskCounts, TaskFilter, TaskOutcome } from "../contract.js";
import { scan } from "./consumer.js";
import { type NatsContext, readTask, readTaskById, remember } from "./context.js";
import { MARKER_PREFIX } from "./index-entries.js";
import { bucketStream, keySubject } from "./names.js";
import { copyRecord, decodeStored, orderOf, outcomeOf, type Versioned } from "./records.js";

export async function getTask(ctx: NatsContext, id: string): Promise<TaskRecord | null> {
  const current = await readTaskById(ctx, id);
  return current ? copyRecord(current.stored.task) : null;
}

export async function getOutcome(ctx: NatsContext, id: string): Promise<TaskOutcome | null> {
  const current = await readTaskById(ctx, id);
  return current ? outcomeOf(current.stored) : null;
}

/** Every committed record of the store, in enqueue order. */
export async function allTasks(ctx: NatsContext): Promise<Versioned[]> {
  // Newest message per key: an unclean server restart can leave an older one beside it.
  const newest = new Map<string, { rev: number; versioned: Versioned | null }>();
  await scan(
    ctx.nc,
    ctx.js,
    {
      stream: bucketStream(ctx.names.tasksBucket),
      filter: keySubject(ctx.names.tasksBucket, ">"),
      start: { lastPerSubject: true },
    },
    (message) => {
      if ((newest.get(message.subject)?.rev ?? 0) > message.seq) return;
      const versioned = message.operation ? null : decodeStored(message);
      newest.set(message.subject, { rev: message.seq, versioned });
    },
  );
  const found = [...newest.values()].flatMap(({ versioned }) => (versioned ? [versioned] : []));

  // Records of an enqueue still in progress (or abandoned) are not there yet.
  const batches = new Set(found.flatMap(({ stored }) => (stored.batch ? [stored.batch] : [])));
  const committed = new Set<string>();
  await Promise.all(
    [...batches].map(async (batch) => {
      if (ctx.committed.has(batch)) return committed.add(batch);
      const marker = await ctx.js.getKey(ctx.names.indexBucket, `${MARKER_PREFIX}${batch}`);
      if (marker) {
        committed.add(batch);
        remember(ctx.committed, batch);
      }
    }),
  );

  // A record whose marker was not found may have changed (and its marker gone) since the scan.
  const tasks = await Promise.all(
    found.map((versioned) => {
      const { batch, task } = versioned.stored;
      if (batch === undefined || committed.has(batch)) return versioned;
      return readTaskById(ctx, task.id);
    }),
  );
  return tasks
    .filter((versioned): versioned is Versioned => versioned !== null)
    .sort((a, b) => orderOf(a) - orderOf(b));
}

export async function listTasks(ctx: NatsContext, filter: TaskFilter = {}): Promise<TaskRecord[]> {
  const { queue, state, name, limit = 100, offset = 0 } = filter;
  if (state === "blocked" || state === "running") return listIndexed(ctx, state, filter);

  const matching = (await allTasks(ctx))
    .map(({ stored }) => stored.task)
    .filter(
      (task) =>
        (queue === undefined || task.queue === queue) &&
        (state === undefined || task.state === state) &&
        (name === undefined || task.name === name),
    );
  return matching.slice(offset, offset + limit).map(copyRecord);
}

/**
 * Tasks in a state the claim index tells apart, found through it: the
 * dependency resolver of every worker lists blocked tasks every second,
 * which must not cost a read of every record in the store.
 */
async function listIndexed(
  ctx: NatsContext,
  state: "blocked" | "running",
  filter: TaskFilter,
): Promise<TaskRecord[]> {
  const { queue, name, limit = 100, offset = 0 } = filter;
  const index = await ctx.index();
  await index.sync();

  let entries = index.view
    .inState(state)
    .filter((entry) => queue === undefined || entry.queue === queue)
    .sort((a, b) => a.order - b.order);
  // Without a name to match, every entry is a match: only the page asked for is read.
  if (name === undefined) entries = entries.slice(offset, offset + limit);

  const records = await Promise.all(entries.map(({ key }) => readTask(ctx, key)));
  // The record decides: an entry can lag behind a change made a moment ago.
  const matching = records.flatMap((versioned) => {
    const task = versioned?.stored.task;
    if (!task || task.state !== state || (name !== undefined && task.name !== name)) return [];
    return [task];
  });
  const page = name === undefined ? matching : matching.slice(offset, offset + limit);
  return page.map(copyRecord);
}

export async function countTasks(ctx: NatsContext): Promise<TaskCounts> {
  const counts: TaskCounts = {};
  for (const { stored } of await allTasks(ctx)) {
    const { queue, state } = stored.task;
    const perQueue = counts[queue] ?? {};
    perQueue[state] = (perQueue[state] ?? 0) + 1;
    counts[queue] = perQueue;
  }
  return counts;
}
