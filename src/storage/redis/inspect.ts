import type { Redis } from "ioredis";
import type { TaskEvent } from "../../events/types.js";
import type { TaskErrorInfo, TaskRecord } from "../../task/record.js";
import type { TaskState } from "../../task/state.js";
import type { TaskCounts, TaskFilter, TaskOutcome } from "../contract.js";
import { runScript, type ScriptArg } from "./connection.js";
import { eventFromJson, eventsOf, hashObject, recordFromHash } from "./hash.js";

/** Tasks read per `listTasks` script call, so one listing never blocks the server for long. */
const LIST_CHUNK = 500;

type ListReply = [records: string[][], last: string, skip: number, exhausted: number];

/** The reads of the backend; `base` gives every script its prefix, origin and now. */
export class Inspector {
  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
    private readonly base: () => ScriptArg[],
  ) {}

  async getTask(id: string): Promise<TaskRecord | null> {
    const hash = await this.client.hgetall(`${this.prefix}:task:${id}`);
    return hash.state === undefined ? null : recordFromHash(hash);
  }

  /** The outcomes of `ids` in one script call, in their order; null for an unknown id. */
  async getOutcomes(ids: readonly string[]): Promise<(TaskOutcome | null)[]> {
    const json = (await runScript(this.client, "omniqOutcomes", [
      ...this.base(),
      JSON.stringify(ids),
    ])) as string;
    const found = JSON.parse(json) as (StoredOutcome | null)[];
    return ids.map((_, i) => toOutcome(found[i] ?? null));
  }

  /** Pages through the queues' indexes in enqueue order, `LIST_CHUNK` tasks per script call. */
  async listTasks(filter: TaskFilter = {}): Promise<TaskRecord[]> {
    const found: TaskRecord[] = [];
    let after = "-inf";
    let skip = filter.offset ?? 0;
    const limit = filter.limit ?? 100;

    while (found.length < limit) {
      const [records, last, skipLeft, exhausted] = (await runScript(this.client, "omniqListTasks", [
        ...this.base(),
        filter.queue ?? "",
        filter.state ?? "",
        filter.name ?? "",
        after,
        skip,
        limit - found.length,
        LIST_CHUNK,
      ])) as ListReply;

      for (const flat of records) found.push(recordFromHash(hashObject(flat)));
      if (exhausted === 1) break;
      after = last;
      skip = skipLeft;
    }
    return found;
  }

  /** Reads the counters the scripts keep per queue and state; zeros are left out. */
  async countTasks(): Promise<TaskCounts> {
    const stored = await this.client.hgetall(`${this.prefix}:counts`);
    const counts: TaskCounts = {};
    for (const [field, value] of Object.entries(stored)) {
      const n = Number(value);
      if (n === 0) continue;
      const split = field.lastIndexOf("\n");
      const queue = field.slice(0, split);
      const perState = counts[queue] ?? {};
      perState[field.slice(split + 1) as TaskState] = n;
      counts[queue] = perState;
    }
    return counts;
  }

  async taskEvents(taskId: string): Promise<TaskEvent[]> {
    const json = (await runScript(this.client, "omniqTaskEvents", [
      ...this.base(),
      taskId,
    ])) as string[];
    return json.map(eventFromJson);
  }

  /** Reads the log members that may hold later events and keeps the first `limit` after the seq. */
  async eventsSince(afterSeq: number, limit: number): Promise<TaskEvent[]> {
    if (limit <= 0) return [];
    const members = (await runScript(this.client, "omniqEventsSince", [
      ...this.base(),
      afterSeq,
      limit,
    ])) as string[];

    const found: TaskEvent[] = [];
    for (const member of members) {
      for (const event of eventsOf(member)) {
        if (event.seq <= afterSeq) continue;
        found.push(event);
        if (found.length === limit) return found;
      }
    }
    return found;
  }

  /** The last event of the newest log member: the log only ever loses its oldest members. */
  async lastEventSeq(): Promise<number> {
    const [newest] = await this.client.zrange(`${this.prefix}:log`, -1, -1);
    return newest === undefined ? 0 : (eventsOf(newest).at(-1)?.seq ?? 0);
  }
}

/** One task's end as the outcomes script answers it: state, result, lastError. */
type StoredOutcome = [state: string, result: string | null, lastError: TaskErrorInfo | null];

/** A task's end as `getOutcome` answers it; a new object each time. */
function toOutcome(stored: StoredOutcome | null): TaskOutcome | null {
  if (stored === null) return null;
  const [state, result, lastError] = stored;
  const outcome: TaskOutcome = { state: state as TaskState };
  if (state === "completed" && result !== null) outcome.result = result;
  if (lastError !== null) outcome.error = lastError;
  return outcome;
}
