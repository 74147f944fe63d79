import type Database from "better-sqlite3";
import type { Statement } from "better-sqlite3";
import type { ScheduleEvent, StoredSchedule } from "../contract.js";
import type { Changes } from "./changes.js";

/**
 * The scheduler's records in omniq_schedules, each under a version. A
 * write compares the version inside its own statement, and runs in the
 * caller's write transaction with its event: of two writers expecting the
 * same version, over any connections, the second finds it raised.
 */
export class Schedules {
  private readonly insert: Statement<[id: string, data: string]>;
  private readonly update: Statement<[data: string, id: string, expected: number]>;
  private readonly remove: Statement<[id: string]>;
  private readonly one: Statement<[id: string], StoredSchedule>;
  private readonly all: Statement<[], StoredSchedule>;

  constructor(db: Database.Database) {
    this.insert = db.prepare(
      "INSERT INTO omniq_schedules (id, version, data) VALUES (?, 1, ?) ON CONFLICT (id) DO NOTHING",
    );
    this.update = db.prepare(
      "UPDATE omniq_schedules SET data = ?, version = version + 1 WHERE id = ? AND version = ?",
    );
    this.remove = db.prepare("DELETE FROM omniq_schedules WHERE id = ?");
    this.one = db.prepare("SELECT id, version, data FROM omniq_schedules WHERE id = ?");
    this.all = db.prepare("SELECT id, version, data FROM omniq_schedules ORDER BY id");
  }

  /** The new version, or null when the stored one is not `expected` (null: when one exists). */
  put(
    id: string,
    data: string,
    expected: number | null,
    event: ScheduleEvent | undefined,
    changes: Changes,
  ): number | null {
    const written =
      expected === null ? this.insert.run(id, data) : this.update.run(data, id, expected);
    if (written.changes === 0) return null;

    if (event !== undefined) record(id, event, changes);
    return expected === null ? 1 : expected + 1;
  }

  /** False when there was no such schedule. */
  delete(id: string, event: ScheduleEvent | undefined, changes: Changes): boolean {
    if (this.remove.run(id).changes === 0) return false;
    if (event !== undefined) record(id, event, changes);
    return true;
  }

  get(id: string): StoredSchedule | null {
    return this.one.get(id) ?? null;
  }

  list(): StoredSchedule[] {
    return this.all.all();
  }
}

/**
 * A schedule's event, under the schedule's id. Task seq 0 belongs to no
 * task (task seqs start at 1), so `taskEvents` finds it by id.
 */
function record(id: string, event: ScheduleEvent, changes: Changes): void {
  const { type, queue, name } = event;
  changes.event({ seq: 0, id, queue, name, attempts: 0 }, type);
}
