import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OmniQError, StorageError } from "../../errors.js";
import { type Clock, type Storage, systemClock } from "../contract.js";
import { formatCounters, INITIAL_COUNTERS } from "./counters.js";
import { errorCode, readText } from "./fs-sync.js";
import { FOLDERS } from "./layout.js";
import { prepareLocks } from "./locks.js";
import { OWNER } from "./owner.js";
import { FileStorage } from "./storage.js";
import { FileStore } from "./store.js";
import { fileRootFromUrl } from "./url.js";

/** Settings of `openFileStorage`. */
export interface FileStorageOptions {
  /** Where every "now" is read. @default the system clock */
  clock?: Clock;
  /**
   * Also signal changes made by other processes, by watching the store's
   * signal log with `fs.watch`. Off, only this process's changes signal and
   * workers elsewhere find new tasks by polling.
   * @default true
   */
  watch?: boolean;
  /** Store lifecycle events; `false` stores none. @default true */
  recordEvents?: boolean;
}

const FORMAT = { format: "omniq-files", version: 1 };

/**
 * Opens (creating it if need be) the files store named by `url`:
 * `file:///absolute/dir`, or `file://./relative/dir` from the working
 * directory. Several processes on one machine may open the same folder;
 * it must be on a local file system (see index.ts).
 *
 * @throws InvalidArgumentError for a URL that names no folder.
 * @throws StorageError naming the folder when it cannot be used.
 */
export async function openFileStorage(
  url: string,
  options: FileStorageOptions = {},
): Promise<Storage> {
  const root = fileRootFromUrl(url);
  try {
    prepareFolder(root);
    // Handles find one another through the real path, whatever the spelling.
    const store = new FileStore(
      realpathSync(root),
      options.clock ?? systemClock,
      options.watch ?? true,
      options.recordEvents ?? true,
    );
    return new FileStorage(store);
  } catch (cause) {
    if (cause instanceof OmniQError) throw cause;
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new StorageError(`cannot open the files store ${root}: ${message}`, { cause });
  }
}

function prepareFolder(root: string): void {
  mkdirSync(root, { recursive: true });
  const meta = join(root, "meta");
  if (readText(join(meta, "format.json")) === null) createMeta(root, meta);
  checkFormat(root, meta);
  for (const folder of FOLDERS) mkdirSync(join(root, folder), { recursive: true });
  // After the format check: a store of this format made before the locks existed gets them now.
  prepareLocks(root);
}

/**
 * Makes `meta` whole in a draft folder and renames it into place: of
 * processes opening a new store at once, one rename wins and the others
 * find its `meta`. The store lock's token must exist exactly once.
 */
function createMeta(root: string, meta: string): void {
  const strangers = readdirSync(root).filter(
    (name) =>
      name !== "meta" &&
      name !== "locks" &&
      !name.startsWith(".meta-") &&
      !name.startsWith(".locks-") &&
      !(FOLDERS as readonly string[]).includes(name),
  );
  if (strangers.length > 0) {
    throw new StorageError(
      `${root} is not an omniq files store and is not empty (it holds ${strangers[0]}); ` +
        "give an empty or new folder",
    );
  }

  const draft = join(root, `.meta-${OWNER}-${randomBytes(4).toString("hex")}`);
  mkdirSync(draft);
  writeFileSync(join(draft, "lock"), "");
  writeFileSync(join(draft, "counters"), formatCounters(INITIAL_COUNTERS));
  writeFileSync(join(draft, "format.json"), JSON.stringify(FORMAT));
  try {
    renameSync(draft, meta);
  } catch (error) {
    rmSync(draft, { recursive: true, force: true });
    const code = errorCode(error);
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
  }
}

function checkFormat(root: string, meta: string): void {
  const text = readText(join(meta, "format.json")) ?? "";
  let format: unknown;
  try {
    format = JSON.parse(text);
  } catch {
    format = null;
  }

  const { format: name, version } = (format ?? {}) as { format?: unknown; version?: unknown };
  if (name !== FORMAT.format || version !== FORMAT.version) {
    throw new StorageError(
      `${root} holds a files store of format ${JSON.stringify(format)}; ` +
        `this omniq reads ${JSON.stringify(FORMAT)}`,
    );
  }
}
