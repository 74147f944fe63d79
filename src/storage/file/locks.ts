// The locks beside the store lock (`meta/lock`, which orders events and
// enqueue batches): `locks/keys` for idempotency keys, `locks/controls` for
// queue controls, `locks/schedules` for schedule writes, and
// `locks/queues/<queue>` per queue with a concurrency or rate limit, held
// while its tasks are counted and claimed.
//
// A lock token must exist exactly once (see TokenLock), so `locks/` is made
// whole in a draft folder and renamed into place, as `meta` is: a store made
// before these locks existed gets them at its next open, and of processes
// opening it at once one rename wins. A queue's token is made under the
// controls lock, by the one process that finds neither it nor a held copy.
import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createExclusive, errorCode, listNames } from "./fs-sync.js";
import { OWNER } from "./owner.js";
import { TokenLock } from "./token-lock.js";

const NAMES = ["keys", "controls", "schedules"] as const;

/** Makes `<root>/locks` with its tokens unless it is there already. */
export function prepareLocks(root: string): void {
  const locks = join(root, "locks");
  if (hasTokens(locks)) return;

  const draft = join(root, `.locks-${OWNER}-${randomBytes(4).toString("hex")}`);
  mkdirSync(join(draft, "queues"), { recursive: true });
  for (const name of NAMES) writeFileSync(join(draft, name), "");
  try {
    renameSync(draft, locks);
  } catch (error) {
    rmSync(draft, { recursive: true, force: true });
    const code = errorCode(error);
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
  }
}

/** Whether the folder holds every token, free or held. */
function hasTokens(locks: string): boolean {
  const names = listNames(locks);
  return NAMES.every((name) => names.some((n) => n === name || n.startsWith(`${name}@`)));
}

/** The locks of one handle. None is held across an await. */
export class StoreLocks {
  readonly keys: TokenLock;
  readonly controls: TokenLock;
  readonly schedules: TokenLock;
  private readonly queues = new Map<string, TokenLock>();
  private readonly queuesDir: string;

  constructor(dir: string) {
    // Every write under these locks is a rename or a write in place: a dead
    // holder leaves nothing half done to repair.
    const nothing = () => {};
    this.keys = new TokenLock(dir, "keys", nothing);
    this.controls = new TokenLock(dir, "controls", nothing);
    this.schedules = new TokenLock(dir, "schedules", nothing);
    this.queuesDir = join(dir, "queues");
  }

  /** The lock of a queue (by its file name); `ensureQueue` made its token. */
  queue(queueName: string): TokenLock {
    let lock = this.queues.get(queueName);
    if (!lock) {
      lock = new TokenLock(this.queuesDir, queueName, () => {});
      this.queues.set(queueName, lock);
    }
    return lock;
  }

  /** Makes a queue's token if it has none; the caller holds the controls lock. */
  ensureQueue(queueName: string): void {
    const exists = listNames(this.queuesDir).some(
      (name) => name === queueName || name.startsWith(`${queueName}@`),
    );
    if (!exists) createExclusive(join(this.queuesDir, queueName), "");
  }
}

/** Runs `body` holding `lock`. */
export function withLock<T>(lock: TokenLock, body: () => T): T {
  lock.acquire();
  try {
    return body();
  } finally {
    lock.release();
  }
}
