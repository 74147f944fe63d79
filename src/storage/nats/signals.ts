// Wake-up signals on a core NATS subject: not stored, just sent to whoever
// listens now. A handle hands its own signals to its listeners directly,
// before the operation that caused them returns, and ignores their echo
// from the server; signals from other handles arrive through the server.
import { type NatsConnection, nuid, type Subscription } from "@nats-io/transport-node";
import type { StorageSignal } from "../contract.js";

type Listener = (signal: StorageSignal) => void;

interface Envelope {
  from: string;
  signals: StorageSignal[];
}

export class SignalBus {
  private readonly id = nuid.next();
  private readonly listeners = new Set<Listener>();
  private sub: Subscription | null = null;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
  ) {}

  /** Delivers signals to `listener` until the returned function is called. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    if (!this.sub) {
      this.sub = this.nc.subscribe(this.subject, {
        callback: (error, msg) => {
          if (error) return;
          let envelope: Envelope;
          try {
            envelope = msg.json<Envelope>();
          } catch {
            return; // not ours: someone else publishes on the subject
          }
          if (envelope.from !== this.id && Array.isArray(envelope.signals)) {
            this.deliver(envelope.signals);
          }
        },
      });
    }

    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.sub) {
        this.sub.unsubscribe();
        this.sub = null;
      }
    };
  }

  /**
   * Sends signals to this handle's listeners now and to every other handle;
   * outcomes go only to the listeners here (elsewhere they would cost more
   * than the read they save).
   */
  send(signals: readonly StorageSignal[]): void {
    if (signals.length === 0) return;
    this.deliver(signals);
    const bare = signals.map((signal) =>
      signal.type === "finished" ? { type: signal.type, ids: signal.ids } : signal,
    );
    try {
      this.nc.publish(this.subject, JSON.stringify({ from: this.id, signals: bare }));
    } catch {
      // A signal is a hint: listeners also poll, so a closed connection loses nothing.
    }
  }

  close(): void {
    this.listeners.clear();
    this.sub?.unsubscribe();
    this.sub = null;
  }

  private deliver(signals: readonly StorageSignal[]): void {
    for (const signal of signals) {
      for (const listener of [...this.listeners]) {
        try {
          listener(signal);
        } catch {
          // One listener's failure must not keep the signal from the others.
        }
      }
    }
  }
}

/** `ready` for each queue, once. */
export function readySignals(queues: Iterable<string>): StorageSignal[] {
  return [...new Set(queues)].map((queue) => ({ type: "ready", queue }));
}
