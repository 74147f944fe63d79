import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";

/** Pause before waiting again after the inbox's connection failed, in ms. */
const RETRY_MS = 500;

/** What `stop` pushes to end the pop: no handover is an empty message. */
export const STOP_MARK = "";

/** How long `stop` waits for the blocking pop to end before dropping its connection. */
const STOP_WAIT_MS = 1_000;

/**
 * This handle's inbox, `${prefix}:inbox:${origin}`: a blocking pop on a
 * connection of its own feeds `receive` each handover the moment an enqueue
 * pushes it. Redis answers a blocked pop before the enqueue's own caller,
 * which is what makes this faster than pub/sub. Opened on first use: a
 * handle that never claims needs no third connection. The list outlives a
 * lost connection, and every claim empties it too (see offers.ts), so a
 * stuck pop delays handovers but loses none.
 */
export class Inbox {
  private client: Redis | undefined;
  private loop: Promise<void> | undefined;
  private state: "idle" | "waiting" | "stopped" = "idle";

  constructor(
    private readonly key: string,
    private readonly open: () => Redis,
    private readonly receive: (message: string) => void,
  ) {}

  /** Starts waiting on the inbox; later calls do nothing. */
  start(): void {
    if (this.state !== "idle") return;
    this.state = "waiting";
    const client = this.open();
    this.client = client;
    this.loop = this.run(client);
  }

  /**
   * Ends the wait: `wake` pushes a marker behind whatever waits in the list,
   * so everything before it is still received. The connection is dropped
   * after a while if the pop does not end.
   */
  async stop(wake: (key: string, mark: string) => Promise<unknown>): Promise<void> {
    const started = this.state === "waiting";
    this.state = "stopped";
    if (!started || !this.client || !this.loop) return;

    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, STOP_WAIT_MS);
    });
    try {
      await Promise.race([wake(this.key, STOP_MARK).then(() => this.loop), late]);
    } catch {
      // The marker did not go out: dropping the connection ends the pop.
    } finally {
      clearTimeout(timer);
      this.client.disconnect();
    }
  }

  private async run(client: Redis): Promise<void> {
    for (;;) {
      try {
        const popped = await client.brpop(this.key, 0);
        if (popped?.[1] === STOP_MARK) return;
        if (popped) this.receive(popped[1]);
        // The next pop goes out after the owner's claim has taken the tasks:
        // its write would otherwise come first, on the way to their start.
        await new Promise((resolve) => setImmediate(resolve));
      } catch {
        // The client reconnects on its own; what was pushed meanwhile waits in the list.
        if (this.state !== "waiting") return;
        await sleep(RETRY_MS);
      }
    }
  }
}
