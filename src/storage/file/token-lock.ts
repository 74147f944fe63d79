import { join } from "node:path";
import { StorageError } from "../../errors.js";
import { listNames, sleepSync, tryRename } from "./fs-sync.js";
import { OWNER, ownerAlive } from "./owner.js";

/** How long to wait for a lock before failing, in ms. */
const LOCK_WAIT_MS = 10_000;

/** How often a waiter checks whether the holder died, in ms. */
const STALE_CHECK_MS = 25;

/**
 * A lock between processes made of one token file. Free, the token is
 * `<dir>/<name>`; held, it is renamed to `<name>@<owner>`. Only one rename of
 * the free token can succeed, so only one process holds the lock; a holder
 * that died (even by kill -9) is seen from its name, and its token is
 * renamed to the next holder, which again only one waiter can do.
 *
 * The lock is held for a few system calls and never across an await, so a
 * waiter sleeps its thread in steps of tens of microseconds rather than
 * going back to the event loop.
 *
 * The token is made once, with the store's `meta` folder (see open.ts), and
 * never created again: a second token could give the lock to two holders.
 */
export class TokenLock {
  private readonly free: string;
  private readonly held: string;

  constructor(
    private readonly dir: string,
    private readonly name: string,
    /** Runs after taking the lock from a dead holder, to repair what it may have left half done. */
    private readonly repair: () => void,
  ) {
    this.free = join(dir, name);
    this.held = join(dir, `${name}@${OWNER}`);
  }

  acquire(): void {
    const started = Date.now();
    let nextCheck = started + STALE_CHECK_MS;
    let pause = 0.02;

    for (;;) {
      if (tryRename(this.free, this.held)) return;

      const now = Date.now();
      if (now >= nextCheck) {
        if (this.takeFromDead()) return;
        nextCheck = now + STALE_CHECK_MS;
      }
      if (now - started > LOCK_WAIT_MS) {
        throw new StorageError(
          `the lock ${this.free} was not free within ${LOCK_WAIT_MS} ms; ` +
            `if no omniq process uses this store, remove the ${this.name}@* file in ${this.dir} ` +
            `and create an empty ${this.name} in its place`,
        );
      }
      sleepSync(pause);
      pause = Math.min(pause * 2, 1);
    }
  }

  release(): void {
    if (!tryRename(this.held, this.free)) {
      throw new StorageError(`the lock ${this.free} was taken from this process while it held it`);
    }
  }

  /**
   * Takes the token from a holder that is no longer running; true when this process now holds it.
   */
  private takeFromDead(): boolean {
    const prefix = `${this.name}@`;
    for (const entry of listNames(this.dir)) {
      if (!entry.startsWith(prefix) || ownerAlive(entry.slice(prefix.length))) continue;
      if (!tryRename(join(this.dir, entry), this.held)) continue;

      try {
        this.repair();
      } catch (error) {
        this.release();
        throw error;
      }
      return true;
    }
    return false;
  }
}
