import type { Storage } from "../storage/contract.js";
import type { TaskEvent } from "./types.js";

/** Events read per query while catching up. */
const PAGE = 500;

/** A subscriber to the event log, with an optional filter. */
export type EventListener = (event: TaskEvent) => void;

/**
 * Follows the stored event log from the moment the first listener joins and
 * hands each new event to every listener: events of other processes too,
 * since they all land in the same log. Reads on every wake-up signal and at
 * least once per poll interval.
 */
export class EventFollower {
  private readonly listeners = new Set<EventListener>();
  private cursor: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly storage: Storage,
    private readonly pollIntervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Adds a listener; resolves once it is sure to see every event stored from now on. */
  async add(listener: EventListener): Promise<() => void> {
    this.listeners.add(listener);
    if (this.cursor === undefined) this.cursor = await this.storage.lastEventSeq();
    if (!this.timer) {
      this.timer = setInterval(() => this.wake(), this.pollIntervalMs);
      this.timer.unref();
    }
    return () => this.remove(listener);
  }

  /** Something changed: read what is new. */
  wake(): void {
    if (this.listeners.size === 0 || this.cursor === undefined) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.read().finally(() => {
      this.reading = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  close(): void {
    this.listeners.clear();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private remove(listener: EventListener): void {
    this.listeners.delete(listener);
    if (this.listeners.size > 0) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.cursor = undefined;
  }

  // A listener that throws must not stop the others, nor the log.
  private deliver(listener: EventListener, event: TaskEvent): void {
    try {
      listener(event);
    } catch (error) {
      this.onError(error);
    }
  }

  private async read(): Promise<void> {
    try {
      for (;;) {
        const events = await this.storage.eventsSince(this.cursor ?? 0, PAGE);
        for (const event of events) {
          this.cursor = event.seq;
          for (const listener of this.listeners) this.deliver(listener, event);
        }
        if (events.length < PAGE) return;
      }
    } catch (error) {
      this.onError(error);
    }
  }
}
