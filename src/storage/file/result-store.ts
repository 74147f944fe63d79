// Results as files: `result-store/r/<token>.<task id as a file name>`, each
// the JSON of { result, expiresAt }, written to `tmp` and renamed into
// place, so a reader sees a whole result or none. Purging lists and reads
// every result file.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ResultStore, StoredResult } from "../stores.js";
import { listNames, moveInto, readText, unlinkQuietly } from "./fs-sync.js";
import { encodeName } from "./names.js";
import { draftName, openSideFolder, runInSideFolder } from "./side-folder.js";

interface ResultFile {
  result: string;
  expiresAt: number;
}

export class FileResultStore implements ResultStore {
  private closed = false;

  constructor(private readonly dir: string) {}

  async put(results: readonly StoredResult[]): Promise<void> {
    this.run("put results", () => {
      for (const { id, token, result, expiresAt } of results) {
        const draft = draftName(this.dir);
        writeFileSync(draft, JSON.stringify({ result, expiresAt } satisfies ResultFile));
        moveInto(draft, this.path(id, token));
      }
    });
  }

  async get(id: string, token: number): Promise<string | null> {
    return this.run("get a result", () => {
      const text = readText(this.path(id, token));
      return text === null ? null : (JSON.parse(text) as ResultFile).result;
    });
  }

  async purge(now: number): Promise<number> {
    return this.run("purge results", () => {
      let deleted = 0;
      for (const name of listNames(join(this.dir, "r"))) {
        const path = join(this.dir, "r", name);
        const text = readText(path);
        if (text === null || (JSON.parse(text) as ResultFile).expiresAt > now) continue;
        if (unlinkQuietly(path)) deleted += 1;
      }
      return deleted;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private path(id: string, token: number): string {
    return join(this.dir, "r", `${token}.${encodeName(id)}`);
  }

  private run<T>(operation: string, body: () => T): T {
    return runInSideFolder(this.dir, "result store", this.closed, operation, body);
  }
}

/** Opens the result store in the folder a `file://` URL names. */
export async function openFileResultStore(url: string): Promise<ResultStore> {
  return new FileResultStore(openSideFolder(url, "result-store"));
}
