import pg from "pg";
import type { StorageSignal } from "../contract.js";
import type { SqlNames } from "./names.js";
import { decodeSignal } from "./signals.js";

/** How the listener reconnects after losing its connection. */
export interface ListenerSettings {
  /** First pause before reconnecting, in ms; it doubles up to `maxBackoffMs`. */
  minBackoffMs: number;
  maxBackoffMs: number;
  /** How often the idle connection is checked with a trivial query, in ms. */
  pingMs: number;
}

/**
 * Holds one dedicated connection that LISTENs on the store's channel and
 * turns notifications into signals. A pooled connection cannot do this: it
 * is handed to other statements and its LISTEN would go with it.
 *
 * When the connection drops (server restart, network) it reconnects with
 * backoff and LISTENs again. A connection that died without a word (a
 * network that drops packets rather than refusing them) is found by a
 * periodic `SELECT 1`, which fails by the query timeout; notifications sent meanwhile are lost, so
 * after
 * reconnecting it announces every queue it has seen as ready, to make
 * workers look for what arrived during the gap.
 */
export class Listener {
  private client: pg.Client | null = null;
  private closed = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | null = null;
  private pinger: NodeJS.Timeout | null = null;
  private readonly queuesSeen = new Set<string>();
  /** Counts lost connections: notifications sent meanwhile are gone (see `Storage.signalEpoch`). */
  epoch = 0;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly names: SqlNames,
    private readonly settings: ListenerSettings,
    private readonly deliver: (signal: StorageSignal) => void,
    /** Takes a handover message, without its first letter (see sql/handover.ts). */
    private readonly handover: (message: string) => void = () => {},
  ) {}

  /** Connects and LISTENs; rejects if the first connection fails. */
  async start(): Promise<void> {
    await this.connect();
    this.pinger = setInterval(() => this.ping(), this.settings.pingMs);
    this.pinger.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.pinger) clearInterval(this.pinger);
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.config);
    // Registered before connecting: an error event with no listener would
    // end the process.
    client.on("error", () => this.lost(client));
    client.on("end", () => this.lost(client));
    client.on("notification", (message) => this.onNotification(message));

    try {
      await client.connect();
      await client.query(`LISTEN ${this.names.channelIdent}`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }

    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.attempt = 0;
  }

  private onNotification(message: pg.Notification): void {
    if (message.payload === undefined) return;
    if (message.payload[0] === "h") {
      this.handover(message.payload.slice(1));
      return;
    }

    let signal: StorageSignal | null;
    try {
      signal = decodeSignal(message.payload);
    } catch {
      return; // not one of ours (someone else NOTIFYing on the channel)
    }
    if (signal === null) return;

    if (signal.type === "ready") this.queuesSeen.add(signal.queue);
    this.deliver(signal);
  }

  private ping(): void {
    const client = this.client;
    if (!client) return;
    client.query("SELECT 1").catch(() => this.lost(client));
  }

  /** The connection is gone: forget it and schedule a reconnect, once. */
  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = null;
    this.epoch += 1;
    client.end().catch(() => {});
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.timer) return;

    const delay = Math.min(
      this.settings.maxBackoffMs,
      this.settings.minBackoffMs * 2 ** Math.min(this.attempt, 16),
    );
    this.attempt += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect().then(
        () => this.announceQueues(),
        () => this.scheduleReconnect(),
      );
    }, delay);
    // A listener waiting to reconnect must not keep the process alive.
    this.timer.unref();
  }

  private announceQueues(): void {
    if (this.closed) return;
    for (const queue of this.queuesSeen) this.deliver({ type: "ready", queue });
  }
}
