// Events in one stream, one message each, `<prefix>.event-store.<task key>`,
// the body the event as JSON with the queue's seq. Every write expects the
// stream's last sequence to be the one it read (`Nats-Expected-Last-Sequence`),
// so of two processes copying at once only one extends the stream at a time
// and the other re-reads where it got to: the stream holds the events in
// ascending seq, once each. Only the oldest messages are ever removed, so
// the stream's sequences have no holes and `eventsSince` finds its start by
// bisection.
import type { StoredMsg } from "@nats-io/jetstream";
import type { TaskEvent } from "../../events/types.js";
import type { EventStore } from "../stores.js";
import { firstUnexpired } from "./events.js";
import { taskKey } from "./names.js";
import { isWrongLastSequence, SideStream } from "./side-stream.js";

/** Writes retried after losing to another writer, before giving up. */
const MAX_CONFLICTS = 20;

interface Tip {
  /** The stream's last sequence (0 when it never had a message). */
  streamSeq: number;
  /** The seq of the event it holds, 0 when the stream is empty. */
  eventSeq: number;
}

export class NatsEventStore implements EventStore {
  /** Where the last `eventsSince` stopped: a follower's next call starts there. */
  private resume: { eventSeq: number; streamSeq: number } | null = null;

  constructor(private readonly side: SideStream) {}

  append(events: readonly TaskEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return this.side.run("append events", async () => {
      let tip = await this.tip();
      let conflicts = 0;
      for (let i = 0; i < events.length; ) {
        const event = events[i] as TaskEvent;
        if (event.seq <= tip.eventSeq) {
          i += 1;
          continue;
        }
        try {
          const ack = await this.side.js.publish(
            this.subject(event.taskId),
            JSON.stringify(event),
            {
              expect: { lastSequence: tip.streamSeq },
            },
          );
          tip = { streamSeq: ack.seq, eventSeq: event.seq };
          i += 1;
        } catch (error) {
          // Another writer got there first: see how far it went, then go on from there.
          if (!isWrongLastSequence(error) || ++conflicts > MAX_CONFLICTS) throw error;
          tip = await this.tip();
        }
      }
    });
  }

  taskEvents(taskId: string): Promise<TaskEvent[]> {
    return this.side.run("read a task's events", async () => {
      const events: TaskEvent[] = [];
      for (let seq = 1; ; ) {
        const message = await this.side.jsm.direct.getMessage(this.side.stream, {
          next_by_subj: this.subject(taskId),
          seq,
        });
        if (!message) return events;
        events.push(message.json<TaskEvent>());
        seq = message.seq + 1;
      }
    });
  }

  eventsSince(afterSeq: number, limit: number): Promise<TaskEvent[]> {
    if (limit <= 0) return Promise.resolve([]);
    return this.side.run("read events", async () => {
      const state = await this.side.state();
      if (state.messages === 0) return [];

      const from = await this.firstAfter(afterSeq, state.first_seq, state.last_seq);
      const to = Math.min(state.last_seq, from + limit - 1);
      const reads: Promise<StoredMsg | null>[] = [];
      for (let seq = from; seq <= to; seq += 1) reads.push(this.at(seq));
      const events = (await Promise.all(reads))
        .filter((m): m is StoredMsg => m !== null)
        .map((m) => m.json<TaskEvent>())
        .filter((event) => event.seq > afterSeq);

      const last = events.at(-1);
      if (last) this.resume = { eventSeq: last.seq, streamSeq: from + events.length - 1 };
      return events;
    });
  }

  lastEventSeq(): Promise<number> {
    return this.side.run("read the last event seq", async () => (await this.tip()).eventSeq);
  }

  /** Finds the end of the expired prefix by bisection and purges it in one call. */
  purge(cutoff: number): Promise<number> {
    return this.side.run("purge events", async () => {
      const state = await this.side.state();
      if (state.messages === 0) return 0;

      const expired = async (seq: number) => {
        const message = await this.at(seq);
        return message !== null && message.json<TaskEvent>().at <= cutoff;
      };
      const low = await firstUnexpired(state.first_seq, state.last_seq, expired);
      if (low === state.first_seq) return 0;

      this.resume = null;
      return (await this.side.jsm.streams.purge(this.side.stream, { seq: low })).purged;
    });
  }

  close(): Promise<void> {
    return this.side.close();
  }

  private async tip(): Promise<Tip> {
    const state = await this.side.state();
    if (state.messages === 0) return { streamSeq: state.last_seq, eventSeq: 0 };
    const last = await this.at(state.last_seq);
    return { streamSeq: state.last_seq, eventSeq: last?.json<TaskEvent>().seq ?? 0 };
  }

  /** The first stream sequence in [first, last + 1] whose event's seq is above `afterSeq`. */
  private async firstAfter(afterSeq: number, first: number, last: number): Promise<number> {
    const resume = this.resume;
    if (resume?.eventSeq === afterSeq && resume.streamSeq >= first - 1) {
      return resume.streamSeq + 1;
    }

    let low = first;
    let high = last + 1;
    while (low < high) {
      const mid = Math.floor((low + high) / 2);
      const seq = (await this.at(mid))?.json<TaskEvent>().seq ?? 0;
      if (seq <= afterSeq) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private at(seq: number): Promise<StoredMsg | null> {
    return this.side.jsm.direct.getMessage(this.side.stream, { seq });
  }

  private subject(taskId: string): string {
    return `${this.side.subjectBase}.${taskKey(taskId)}`;
  }
}

/** Opens the event store under the prefix of a `nats://` URL. */
export async function openNatsEventStore(url: string): Promise<EventStore> {
  return new NatsEventStore(await SideStream.open(url, "event-store"));
}
