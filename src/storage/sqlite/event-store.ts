import type { Statement } from "better-sqlite3";
import type { TaskEvent } from "../../events/types.js";
import type { EventStore } from "../stores.js";
import { openSideDatabase, SideDatabase } from "./side-db.js";

// Each event is kept whole as JSON, with the columns the queries need.
const DDL = `
  CREATE TABLE IF NOT EXISTS omniq_event_store (
    seq     INTEGER PRIMARY KEY,
    task_id TEXT    NOT NULL,
    at      INTEGER NOT NULL,
    event   TEXT    NOT NULL
  );
  CREATE INDEX IF NOT EXISTS omniq_event_store_task ON omniq_event_store (task_id, seq);
  CREATE INDEX IF NOT EXISTS omniq_event_store_at ON omniq_event_store (at);
`;

interface EventText {
  event: string;
}

/** Events in a table of a SQLite file, by the queue's seq. */
export class SqliteEventStore implements EventStore {
  private readonly insert: Statement<[number, string, number, string]>;
  private readonly last: Statement<[], { seq: number }>;
  private readonly byTask: Statement<[string], EventText>;
  private readonly since: Statement<[number, number], EventText>;
  private readonly purgeChunk: Statement<[number, number]>;
  private readonly appendAll: (events: readonly TaskEvent[]) => void;

  constructor(private readonly side: SideDatabase) {
    const { db } = side;
    this.insert = db.prepare(
      "INSERT OR IGNORE INTO omniq_event_store (seq, task_id, at, event) VALUES (?, ?, ?, ?)",
    );
    this.last = db.prepare("SELECT COALESCE(MAX(seq), 0) AS seq FROM omniq_event_store");
    this.byTask = db.prepare("SELECT event FROM omniq_event_store WHERE task_id = ? ORDER BY seq");
    this.since = db.prepare(
      "SELECT event FROM omniq_event_store WHERE seq > ? ORDER BY seq LIMIT ?",
    );
    this.purgeChunk = db.prepare(
      `DELETE FROM omniq_event_store WHERE seq IN
         (SELECT seq FROM omniq_event_store WHERE at <= ? LIMIT ?)`,
    );

    // The write lock is taken before the greatest seq is read, so two
    // processes copying at once cannot both pass the same check.
    const appendAll = db.transaction((events: readonly TaskEvent[]) => {
      const greatest = this.last.get()?.seq ?? 0;
      for (const event of events) {
        if (event.seq <= greatest) continue;
        this.insert.run(event.seq, event.taskId, event.at, JSON.stringify(event));
      }
    });
    this.appendAll = (events) => appendAll.immediate(events);
  }

  async append(events: readonly TaskEvent[]): Promise<void> {
    if (events.length === 0) return;
    this.side.run("append events", () => this.appendAll(events));
  }

  async taskEvents(taskId: string): Promise<TaskEvent[]> {
    return this.side.run("read a task's events", () => this.byTask.all(taskId).map(parse));
  }

  async eventsSince(afterSeq: number, limit: number): Promise<TaskEvent[]> {
    if (limit <= 0) return [];
    return this.side.run("read events", () => this.since.all(afterSeq, limit).map(parse));
  }

  async lastEventSeq(): Promise<number> {
    return this.side.run("read the last event seq", () => this.last.get()?.seq ?? 0);
  }

  async purge(cutoff: number): Promise<number> {
    return this.side.purge("purge events", this.purgeChunk, cutoff);
  }

  async close(): Promise<void> {
    this.side.close();
  }
}

function parse(row: EventText): TaskEvent {
  return JSON.parse(row.event) as TaskEvent;
}

/** Opens the event store in the SQLite file of a `sqlite://` URL. */
export async function openSqliteEventStore(url: string): Promise<EventStore> {
  const { db, path } = openSideDatabase(url, DDL);
  return new SqliteEventStore(new SideDatabase(db, path, "event store"));
}
