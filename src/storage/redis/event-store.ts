import type { TaskEvent } from "../../events/types.js";
import type { EventStore } from "../stores.js";
import { SideClient } from "./side-client.js";

/*
 * Keys, under the prefix P:
 *   P:event-store:log         every seq stored (member and score the seq)
 *   P:event-store:data        seq -> the event as JSON
 *   P:event-store:task:<id>   the seqs of one task's events
 * Each script is one atomic step, so two processes copying at once never
 * both pass the check against the greatest seq.
 */

/** ARGV[1] prefix, then seq, task id and JSON of each event, ascending. */
const APPEND = `
local P = ARGV[1]
local log = P .. ':event-store:log'
local top = redis.call('ZRANGE', log, -1, -1, 'WITHSCORES')
local greatest = tonumber(top[2] or '0')
for i = 2, #ARGV, 3 do
  local seq = tonumber(ARGV[i])
  if seq > greatest then
    redis.call('ZADD', log, seq, ARGV[i])
    redis.call('HSET', P .. ':event-store:data', ARGV[i], ARGV[i + 2])
    redis.call('ZADD', P .. ':event-store:task:' .. ARGV[i + 1], seq, ARGV[i])
    greatest = seq
  end
end
return 0
`;

/**
 * ARGV[1] prefix, ARGV[2] cutoff, ARGV[3] most to look at. Deletes events
 * from the oldest on while their time is at or before the cutoff; answers
 * { deleted, looked at }.
 */
const PURGE = `
local P = ARGV[1]
local log = P .. ':event-store:log'
local data = P .. ':event-store:data'
local cutoff = tonumber(ARGV[2])
local seqs = redis.call('ZRANGE', log, 0, tonumber(ARGV[3]) - 1)
local deleted = 0
for _, seq in ipairs(seqs) do
  local json = redis.call('HGET', data, seq)
  local event = json and cjson.decode(json)
  if event and event.at > cutoff then break end
  redis.call('ZREM', log, seq)
  redis.call('HDEL', data, seq)
  if event then redis.call('ZREM', P .. ':event-store:task:' .. event.taskId, seq) end
  deleted = deleted + 1
end
return { deleted, #seqs }
`;

const PURGE_BATCH = 500;

export class RedisEventStore implements EventStore {
  constructor(private readonly side: SideClient) {}

  async append(events: readonly TaskEvent[]): Promise<void> {
    if (events.length === 0) return;
    const args: (string | number)[] = [this.side.target.prefix];
    for (const event of events) args.push(event.seq, event.taskId, JSON.stringify(event));
    await this.side.run("append events", () => this.side.script("omniqEventStoreAppend", args));
  }

  taskEvents(taskId: string): Promise<TaskEvent[]> {
    return this.side.run("read a task's events", async () => {
      const seqs = await this.side.client.zrange(
        this.side.key(`event-store:task:${taskId}`),
        0,
        -1,
      );
      return this.read(seqs);
    });
  }

  eventsSince(afterSeq: number, limit: number): Promise<TaskEvent[]> {
    if (limit <= 0) return Promise.resolve([]);
    return this.side.run("read events", async () => {
      const seqs = await this.side.client.zrangebyscore(
        this.side.key("event-store:log"),
        `(${afterSeq}`,
        "+inf",
        "LIMIT",
        0,
        limit,
      );
      return this.read(seqs);
    });
  }

  lastEventSeq(): Promise<number> {
    return this.side.run("read the last event seq", async () => {
      const [top] = await this.side.client.zrange(this.side.key("event-store:log"), -1, -1);
      return top === undefined ? 0 : Number(top);
    });
  }

  async purge(cutoff: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const [n, looked] = (await this.side.run("purge events", () =>
        this.side.script("omniqEventStorePurge", [this.side.target.prefix, cutoff, PURGE_BATCH]),
      )) as [number, number];
      deleted += n;
      if (n < looked || looked < PURGE_BATCH) return deleted;
    }
  }

  close(): Promise<void> {
    return this.side.close();
  }

  private async read(seqs: readonly string[]): Promise<TaskEvent[]> {
    if (seqs.length === 0) return [];
    const texts = await this.side.client.hmget(this.side.key("event-store:data"), ...seqs);
    return texts.filter((t): t is string => t !== null).map((t) => JSON.parse(t) as TaskEvent);
  }
}

/** Opens the event store under the prefix of a `redis://` URL. */
export async function openRedisEventStore(url: string): Promise<EventStore> {
  return new RedisEventStore(
    await SideClient.open(url, { omniqEventStoreAppend: APPEND, omniqEventStorePurge: PURGE }),
  );
}
