import type { Redis } from "ioredis";
import type { StorageSignal } from "../contract.js";

type Listener = (signal: StorageSignal) => void;

/** What a writing script answers besides its result: the signals it published. */
export type ScriptSignals = [ready: string[], finished: string[], cancel: string[]];

/**
 * Delivers signals to this handle's listeners. Changes made through this
 * handle are delivered at once from the script's answer; changes made
 * through other handles arrive over pub/sub on `${prefix}:signals`, where
 * this handle's own messages (tagged with its origin id) are skipped so that
 * nothing is heard twice.
 */
export class SignalHub {
  private readonly listeners = new Set<Listener>();

  constructor(private readonly origin: string) {}

  /** Adds a listener; the returned function removes it. */
  add(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Delivers what a script of this handle published. */
  deliver([ready, finished, cancel]: ScriptSignals): void {
    if (this.listeners.size === 0) return;
    for (const queue of ready) this.emit({ type: "ready", queue });
    if (finished.length > 0) this.emit({ type: "finished", ids: finished });
    for (const id of cancel) this.emit({ type: "cancel", id });
  }

  /** Reads one pub/sub message; malformed messages are ignored. */
  receive(message: string): void {
    if (this.listeners.size === 0) return;
    let parsed: { o?: unknown; type?: unknown; queue?: unknown; ids?: unknown; id?: unknown };
    try {
      parsed = JSON.parse(message);
    } catch {
      return;
    }
    if (parsed.o === this.origin) return;

    if (parsed.type === "ready" && typeof parsed.queue === "string") {
      this.emit({ type: "ready", queue: parsed.queue });
    } else if (parsed.type === "finished" && Array.isArray(parsed.ids)) {
      this.emit({ type: "finished", ids: parsed.ids.filter((id) => typeof id === "string") });
    } else if (parsed.type === "cancel" && typeof parsed.id === "string") {
      this.emit({ type: "cancel", id: parsed.id });
    }
  }

  private emit(signal: StorageSignal): void {
    for (const listener of [...this.listeners]) {
      // One listener's failure must not keep the signal from the others.
      try {
        listener(signal);
      } catch {
        // Nothing to do: a listener that throws has only itself to blame.
      }
    }
  }
}

/** Subscribes `subscriber` to the signal channel and feeds `hub`. */
export async function listen(subscriber: Redis, channel: string, hub: SignalHub): Promise<void> {
  subscriber.on("message", (from: string, message: string) => {
    if (from === channel) hub.receive(message);
  });
  await subscriber.subscribe(channel);
}
