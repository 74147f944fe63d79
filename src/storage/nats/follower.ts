// Follows one stream (the claim index) for as long as the store is open:
// first each key's current value, then every change, in stream order. A gap
// in delivery, a silent consumer or a reconnect replaces the consumer with a
// new one that starts right after the last message handed on, so nothing is
// skipped and nothing is applied twice.
import { createInbox, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { createConsumer, type DeliveredMessage, deleteConsumer, delivered } from "./consumer.js";
import type { JetStream } from "./jetstream.js";

export interface FollowerSpec {
  stream: string;
  filter: string;
  /** The server sends a heartbeat this often when idle; three missed ones replace the consumer. */
  heartbeatMs: number;
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;

export class Follower {
  private sub: Subscription | null = null;
  private consumer: string | null = null;
  private lastSeq = 0;
  private lastDelivery = 0;
  private lastActivity = Date.now();
  private paused = false;
  private stopped = false;
  private restarting: Promise<void> | null = null;
  private readonly watchdog: NodeJS.Timeout;

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStream,
    private readonly spec: FollowerSpec,
    private readonly onMessage: (message: DeliveredMessage) => void,
  ) {
    this.watchdog = setInterval(() => this.check(), spec.heartbeatMs);
    this.watchdog.unref();
  }

  /** Sequence of the last message handed on. */
  get seq(): number {
    return this.lastSeq;
  }

  /** Starts following; rejects when the first consumer cannot be made. */
  async start(): Promise<void> {
    await this.open();
  }

  /** The connection dropped: stop judging the consumer by its silence. */
  pause(): void {
    this.paused = true;
  }

  /** Replaces the consumer (after a reconnect, a gap or silence), retrying until it works. */
  restart(): Promise<void> {
    this.paused = false;
    if (!this.restarting) {
      this.restarting = this.retryOpen().finally(() => {
        this.restarting = null;
      });
    }
    return this.restarting;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.watchdog);
    this.sub?.unsubscribe();
    this.sub = null;
    if (this.consumer) void deleteConsumer(this.js, this.spec.stream, this.consumer);
  }

  private async retryOpen(): Promise<void> {
    for (let wait = RETRY_MIN_MS; !this.stopped; wait = Math.min(wait * 2, RETRY_MAX_MS)) {
      try {
        await this.open();
        return;
      } catch {
        // The server may still be starting JetStream; try again a little later.
        await new Promise((resolve) => setTimeout(resolve, wait).unref());
      }
    }
  }

  private async open(): Promise<void> {
    const old = this.consumer;
    this.sub?.unsubscribe();

    const inbox = createInbox();
    this.lastDelivery = 0;
    this.lastActivity = Date.now();
    // Messages still arriving for a replaced consumer are ignored.
    const sub: Subscription = this.nc.subscribe(inbox, {
      callback: (error, msg) => {
        if (!error && this.sub === sub) this.take(msg);
      },
    });
    this.sub = sub;
    const start =
      this.lastSeq > 0 ? { seq: this.lastSeq + 1 } : ({ lastPerSubject: true } as const);
    const created = await createConsumer(this.js, { ...this.spec, start }, inbox);
    this.consumer = created.name;

    if (old) void deleteConsumer(this.js, this.spec.stream, old);
  }

  private take(msg: Parameters<typeof delivered>[1]): void {
    this.lastActivity = Date.now();
    const message = delivered(this.nc, msg);
    if (!message || this.stopped) return;

    // A skipped delivery means a message was lost in transit: start again after the last one taken.
    if (message.delivery !== this.lastDelivery + 1) {
      void this.restart();
      return;
    }
    this.lastDelivery = message.delivery;
    if (message.seq <= this.lastSeq) return;
    this.lastSeq = message.seq;
    this.onMessage(message);
  }

  private check(): void {
    if (this.paused || this.stopped || this.restarting) return;
    if (Date.now() - this.lastActivity > 3 * this.spec.heartbeatMs) void this.restart();
  }
}
