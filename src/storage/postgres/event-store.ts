import type { TaskEvent } from "../../events/types.js";
import type { EventStore } from "../stores.js";
import type { Db, Statement } from "./db.js";
import type { SqlNames } from "./names.js";
import { openSideDb } from "./side-db.js";

/** Events in the `event_store` table, by the queue's seq, each kept whole as JSON. */
export class PostgresEventStore implements EventStore {
  private readonly insert: Statement;
  private readonly byTask: Statement;
  private readonly since: Statement;
  private readonly last: Statement;
  private readonly remove: Statement;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    n: SqlNames,
  ) {
    // Two copies at once: the second waits on the first one's rows (the
    // primary key), then skips them, so the table only ever grows at its end.
    this.insert = {
      name: "omniq_event_store_append",
      text: `INSERT INTO ${n.eventStore} (seq, task_id, at, event)
        SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[]) AS e(seq, task_id, at, event)
        WHERE e.seq > (SELECT coalesce(max(seq), 0) FROM ${n.eventStore})
        ON CONFLICT (seq) DO NOTHING`,
    };
    this.byTask = {
      name: "omniq_event_store_task",
      text: `SELECT event FROM ${n.eventStore} WHERE task_id = $1 ORDER BY seq`,
    };
    this.since = {
      name: "omniq_event_store_since",
      text: `SELECT event FROM ${n.eventStore} WHERE seq > $1 ORDER BY seq LIMIT $2`,
    };
    this.last = {
      name: "omniq_event_store_last",
      text: `SELECT coalesce(max(seq), 0) AS seq FROM ${n.eventStore}`,
    };
    this.remove = {
      name: "omniq_event_store_purge",
      text: `WITH deleted AS (DELETE FROM ${n.eventStore} WHERE at <= $1 RETURNING 1)
        SELECT count(*)::integer AS deleted FROM deleted`,
    };
  }

  async append(events: readonly TaskEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db.rows("append events", this.insert, [
      events.map((e) => e.seq),
      events.map((e) => e.taskId),
      events.map((e) => e.at),
      events.map((e) => JSON.stringify(e)),
    ]);
  }

  async taskEvents(taskId: string): Promise<TaskEvent[]> {
    const rows = await this.db.rows<{ event: string }>("read a task's events", this.byTask, [
      taskId,
    ]);
    return rows.map(({ event }) => JSON.parse(event) as TaskEvent);
  }

  async eventsSince(afterSeq: number, limit: number): Promise<TaskEvent[]> {
    if (limit <= 0) return [];
    const rows = await this.db.rows<{ event: string }>("read events", this.since, [
      afterSeq,
      limit,
    ]);
    return rows.map(({ event }) => JSON.parse(event) as TaskEvent);
  }

  async lastEventSeq(): Promise<number> {
    const [row] = await this.db.rows<{ seq: number }>("read the last event seq", this.last);
    return row?.seq ?? 0;
  }

  async purge(cutoff: number): Promise<number> {
    const [row] = await this.db.rows<{ deleted: number }>("purge events", this.remove, [cutoff]);
    return row?.deleted ?? 0;
  }

  close(): Promise<void> {
    this.closing ??= this.db.close();
    return this.closing;
  }
}

/** Opens the event store in the schema of a `postgres://` URL. */
export async function openPostgresEventStore(url: string): Promise<EventStore> {
  const { db, names } = await openSideDb(url);
  return new PostgresEventStore(db, names);
}
