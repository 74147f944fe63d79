// Pipelined request/reply over one NATS connection. The official client's
// `request` (and JetStream `publish` and the KV calls, built on it) pays for
// a timer, a promise chain and often a socket write per call, which held a
// 2-core machine to about 25,000 JetStream writes a second. Here the
// requests of one burst leave together, every reply comes to one wildcard
// inbox subscription and one sweeper enforces the deadlines: the same
// server then takes several times that. The messages themselves are the
// client's: the same subjects, headers and JSON bodies.
import {
  createInbox,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from "@nats-io/transport-node";
import { StorageError } from "../../errors.js";

interface Outgoing {
  subject: string;
  data: string | Uint8Array;
  headers: MsgHdrs | undefined;
  token: string;
}

interface Pending {
  resolve(msg: Msg): void;
  reject(error: Error): void;
  deadline: number;
  subject: string;
}

const SWEEP_EVERY_MS = 100;

/** Requests with replies, many in flight at once, each with a deadline. */
export class Wire {
  private readonly inbox = createInbox();
  private readonly pending = new Map<string, Pending>();
  private readonly sub: Subscription;
  private nextToken = 1;
  private sweeper: NodeJS.Timeout | null = null;
  private down: string | null = null;
  private outbox: Outgoing[] = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {
    this.sub = nc.subscribe(`${this.inbox}.*`, {
      callback: (error, msg) => {
        if (error) return;
        const token = msg.subject.slice(this.inbox.length + 1);
        const waiting = this.pending.get(token);
        if (!waiting) return; // timed out or failed already
        this.pending.delete(token);
        waiting.resolve(msg);
      },
    });
  }

  /** Sends `data` to `subject` and resolves with the reply. */
  request(subject: string, data: string | Uint8Array, headers?: MsgHdrs): Promise<Msg> {
    // While the connection is down the client would buffer the message and
    // send it after reconnecting, long after the caller gave up on it; a
    // write nobody awaits is worse than a clear refusal.
    if (this.down !== null) {
      return Promise.reject(new StorageError(`NATS is unreachable (${this.down}); try again`));
    }

    const token = String(this.nextToken++);
    return new Promise<Msg>((resolve, reject) => {
      this.pending.set(token, {
        resolve,
        reject,
        deadline: Date.now() + this.timeoutMs,
        subject,
      });
      this.startSweeper();
      // Requests made in one burst of promise callbacks leave in one socket
      // write: the client writes once per batch of publishes made together.
      if (this.outbox.push({ subject, data, headers, token }) === 1) {
        process.nextTick(() => this.flush());
      }
    });
  }

  private flush(): void {
    const outgoing = this.outbox;
    this.outbox = [];
    for (const { subject, data, headers, token } of outgoing) {
      // Failed already (the connection dropped before it left): never sent.
      if (!this.pending.has(token)) continue;
      try {
        this.nc.publish(subject, data, { reply: `${this.inbox}.${token}`, headers });
      } catch (error) {
        const waiting = this.pending.get(token);
        this.pending.delete(token);
        waiting?.reject(new StorageError(`NATS refused a message to ${subject}`, { cause: error }));
      }
    }
  }

  /** Marks the connection down: requests in flight fail now, new ones fail until `up()`. */
  fail(reason: string): void {
    this.down = reason;
    this.rejectAll(
      new StorageError(
        `NATS connection lost (${reason}); the request may or may not have been applied`,
      ),
    );
  }

  /** The connection is back. */
  up(): void {
    this.down = null;
  }

  /** Fails what is in flight and stops listening. */
  close(): void {
    this.down = "the storage is closed";
    this.rejectAll(new StorageError("the NATS storage was closed while a request was in flight"));
    this.sub.unsubscribe();
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  private rejectAll(error: StorageError): void {
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
    this.outbox = [];
  }

  private startSweeper(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => this.sweep(), SWEEP_EVERY_MS);
    // A process with nothing else to do must be able to exit.
    this.sweeper.unref();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [token, waiting] of this.pending) {
      if (waiting.deadline > now) continue;
      this.pending.delete(token);
      waiting.reject(
        new StorageError(
          `NATS did not answer a request to ${waiting.subject} within ${this.timeoutMs} ms`,
        ),
      );
    }
    if (this.pending.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }
}
