// Keeps this handle's IndexView current and answers "is it current yet?".
// Other handles write the index too, so before a claim the view must have
// seen at least everything the stream held when the claim began: `sync`
// reads the stream's last sequence and waits for the view to get there.
import type { NatsConnection } from "@nats-io/transport-node";
import { StorageError } from "../../errors.js";
import type { QueueControl } from "../contract.js";
import type { DeliveredMessage } from "./consumer.js";
import { Follower } from "./follower.js";
import {
  CONTROL_PREFIX,
  decodeEntry,
  decodeMarker,
  ENTRY_PREFIX,
  MARKER_PREFIX,
  SYNC_KEY,
} from "./index-entries.js";
import type { JetStream } from "./jetstream.js";
import { bucketStream, keySubject, nameOfKey } from "./names.js";
import { IndexView } from "./view.js";

interface Waiter {
  target: number;
  resolve(): void;
}

const decoder = new TextDecoder();
/** How long the view may lag behind before a fresh message is written to catch up on. */
const CATCH_UP_MS = 500;

export class IndexTail {
  readonly view = new IndexView();
  private readonly follower: Follower;
  private readonly stream: string;
  private readonly subjectStart: number;
  private waiters: Waiter[] = [];

  constructor(
    nc: NatsConnection,
    private readonly js: JetStream,
    private readonly bucket: string,
    private readonly timeoutMs: number,
    /** Told each commit marker seen, so reads need not look the marker up again. */
    private readonly onCommitted: (batch: string) => void = () => undefined,
  ) {
    this.stream = bucketStream(bucket);
    this.subjectStart = keySubject(bucket, "").length;
    this.follower = new Follower(
      nc,
      js,
      { stream: this.stream, filter: keySubject(bucket, ">"), heartbeatMs: 2_000 },
      (message) => this.apply(message),
    );
  }

  start(): Promise<void> {
    return this.follower.start();
  }

  pause(): void {
    this.follower.pause();
  }

  restart(): void {
    void this.follower.restart();
  }

  stop(): void {
    this.follower.stop();
    for (const waiter of this.waiters) waiter.resolve();
    this.waiters = [];
  }

  /** Resolves once the view holds every index change stored before the call. */
  async sync(): Promise<void> {
    const info = await this.js.api<{ state: { last_seq: number } }>(`STREAM.INFO.${this.stream}`);
    if (await this.reach(info.state.last_seq, CATCH_UP_MS)) return;

    // The last message may have been purged (old delete markers are), and
    // then the view never sees that sequence: write a fresh one and wait for it.
    const seq = await this.js.put(this.bucket, SYNC_KEY, "");
    if (await this.reach(seq, this.timeoutMs)) return;

    this.restart();
    throw new StorageError(
      `the claim index of ${this.bucket} did not catch up within ${this.timeoutMs} ms; try again`,
    );
  }

  private reach(target: number, timeoutMs: number): Promise<boolean> {
    if (this.follower.seq >= target) return Promise.resolve(true);

    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      const waiter: Waiter = {
        target,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      this.waiters.push(waiter);
    });
  }

  private apply(message: DeliveredMessage): void {
    const key = message.subject.slice(this.subjectStart);
    const deleted = message.operation !== undefined;

    if (key.startsWith(ENTRY_PREFIX)) {
      const task = key.slice(ENTRY_PREFIX.length);
      const entry = deleted ? null : decodeEntry(task, decoder.decode(message.data));
      this.view.applyEntry(task, entry, message.seq, message.time);
    } else if (key.startsWith(MARKER_PREFIX)) {
      const batch = key.slice(MARKER_PREFIX.length);
      this.view.applyMarker(
        batch,
        deleted ? null : decodeMarker(batch, decoder.decode(message.data)),
      );
      if (!deleted) this.onCommitted(batch);
    } else if (key.startsWith(CONTROL_PREFIX)) {
      const queue = nameOfKey(key.slice(CONTROL_PREFIX.length));
      const control = deleted ? null : (JSON.parse(decoder.decode(message.data)) as QueueControl);
      this.view.applyControl(queue, control);
    }

    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.target <= message.seq);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.target > message.seq);
    for (const waiter of ready) waiter.resolve();
  }
}
