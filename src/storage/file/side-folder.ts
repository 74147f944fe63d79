import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StorageError } from "../../errors.js";
import { errorCode, readText } from "./fs-sync.js";
import { OWNER } from "./owner.js";
import { fileRootFromUrl } from "./url.js";

/** The folders a result or event store keeps in its root. */
export type SideKind = "result-store" | "event-store";

/**
 * The folder of a result or event store under the root a `file://` URL
 * names, created whole on first use: made in a draft folder and renamed into
 * place, so of processes opening a new store at once one rename wins, and
 * its lock token exists exactly once (see TokenLock).
 */
export function openSideFolder(url: string, kind: SideKind): string {
  const root = fileRootFromUrl(url);
  const dir = join(root, kind);
  const format = JSON.stringify({ format: `omniq-${kind}`, version: 1 });

  try {
    if (readText(join(dir, "format.json")) === null) createFolder(root, dir, format);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new StorageError(`cannot open the files ${kind} in ${root}: ${reason}`, { cause });
  }

  const found = readText(join(dir, "format.json"));
  if (found !== format) {
    throw new StorageError(`${dir} holds ${JSON.stringify(found)}, not an omniq ${kind}`);
  }
  return dir;
}

function createFolder(root: string, dir: string, format: string): void {
  mkdirSync(root, { recursive: true });
  const draft = join(root, `.draft-${OWNER}-${randomBytes(4).toString("hex")}`);
  mkdirSync(join(draft, "tmp"), { recursive: true });
  mkdirSync(join(draft, "r"));
  writeFileSync(join(draft, "lock"), "");
  writeFileSync(join(draft, "format.json"), format);
  try {
    renameSync(draft, dir);
  } catch (error) {
    rmSync(draft, { recursive: true, force: true });
    const code = errorCode(error);
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
  }
}

/** A fresh name for a file written in `tmp` and then renamed into place. */
export function draftName(dir: string): string {
  return join(dir, "tmp", `${OWNER}-${randomBytes(6).toString("hex")}`);
}

/**
 * Runs one operation of a result or event store in `dir`: refused once the
 * store is closed, and what the file system throws becomes a `StorageError`
 * naming the folder.
 */
export function runInSideFolder<T>(
  dir: string,
  what: string,
  closed: boolean,
  operation: string,
  body: () => T,
): T {
  if (closed) throw new StorageError(`${operation}: the files ${what} is closed`);
  try {
    return body();
  } catch (cause) {
    if (cause instanceof StorageError) throw cause;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new StorageError(`${operation} failed in ${dir}: ${reason}`, { cause });
  }
}
