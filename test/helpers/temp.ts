import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A fresh directory under the system's temp dir; `remove()` deletes it. */
export function tempDir(prefix = "omniq-test-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A SQLite storage URL in a fresh temp dir. */
export function tempSqliteUrl(): { url: string; file: string; remove(): void } {
  const dir = tempDir();
  const file = join(dir.path, "omniq.db");
  return { url: `sqlite://${file}`, file, remove: dir.remove };
}
