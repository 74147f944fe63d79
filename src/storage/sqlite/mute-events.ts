import type Database from "better-sqlite3";

/**
 * Makes one connection store no events (`recordEvents: false`) without
 * touching a statement: a TEMP view named like the event table shadows it
 * for this connection only (SQLite looks in `temp` before `main`), drops
 * every row written to it and reads as empty. The file, and every other
 * connection to it, keep the real table.
 *
 * Other processes learn of this connection's changes from the event table
 * (see watch.ts), so with it muted they poll instead.
 */
export function muteEvents(db: Database.Database): void {
  db.exec(`
    CREATE TEMP VIEW omniq_events AS SELECT * FROM main.omniq_events WHERE 0;
    CREATE TEMP TRIGGER omniq_events_drop_insert INSTEAD OF INSERT ON omniq_events
      BEGIN SELECT RAISE(IGNORE); END;
    CREATE TEMP TRIGGER omniq_events_drop_delete INSTEAD OF DELETE ON omniq_events
      BEGIN SELECT RAISE(IGNORE); END;
  `);
}
