// The event log: one stream, one message per event, the subject naming the
// task. The stream's sequence numbers are the events' `seq`, so they rise
// with every event stored by any handle. Nothing but the time-to-live purge
// removes events, and it removes the oldest ones, so the stream's sequences
// have no holes between its first and its last: reading a range is one
// direct get per sequence, all sent at once.
import type { TaskEvent } from "../../events/types.js";
import type { NatsContext } from "./context.js";
import { type JetStream, readJson, type StoredMessage } from "./jetstream.js";
import { eventSubject, type StoreNames, taskKey } from "./names.js";
import type { EventDraft } from "./transitions.js";

interface StreamState {
  messages: number;
  first_seq: number;
  last_seq: number;
}

function toEvent(message: StoredMessage): TaskEvent {
  return { seq: message.seq, ...readJson<EventDraft>(message) };
}

async function streamState(js: JetStream, names: StoreNames): Promise<StreamState> {
  const info = await js.api<{ state: StreamState }>(`STREAM.INFO.${names.eventsStream}`);
  return info.state;
}

/** Stores events in the order given; a store opened with `recordEvents: false` stores none. */
export async function appendEvents(
  ctx: Pick<NatsContext, "js" | "names" | "recordEvents">,
  events: readonly EventDraft[],
): Promise<void> {
  if (!ctx.recordEvents) return;
  const { js, names } = ctx;
  // One connection keeps its messages in order, so sending them all at once keeps the log's order.
  await Promise.all(
    events.map((event) =>
      js.publish(eventSubject(names, taskKey(event.taskId)), JSON.stringify(event)),
    ),
  );
}

export async function taskEvents(
  js: JetStream,
  names: StoreNames,
  taskId: string,
): Promise<TaskEvent[]> {
  const subject = eventSubject(names, taskKey(taskId));
  const events: TaskEvent[] = [];
  for (let seq = 1; ; ) {
    const message = await js.get(names.eventsStream, { next_by_subj: subject, seq });
    if (!message) return events;
    events.push(toEvent(message));
    seq = message.seq + 1;
  }
}

export async function eventsSince(
  js: JetStream,
  names: StoreNames,
  afterSeq: number,
  limit: number,
): Promise<TaskEvent[]> {
  const state = await streamState(js, names);
  if (state.messages === 0 || limit <= 0) return [];

  const from = Math.max(afterSeq + 1, state.first_seq);
  const to = Math.min(state.last_seq, from + limit - 1);
  const reads: Promise<StoredMessage | null>[] = [];
  for (let seq = from; seq <= to; seq += 1) reads.push(js.get(names.eventsStream, { seq }));

  const found = await Promise.all(reads);
  return found.filter((m): m is StoredMessage => m !== null).map(toEvent);
}

export async function lastEventSeq(js: JetStream, names: StoreNames): Promise<number> {
  const state = await streamState(js, names);
  return state.messages === 0 ? 0 : state.last_seq;
}

/**
 * Deletes the events with `at + ttlMs <= now`; answers how many. Events are
 * stored in time order, so the expired ones are a prefix of the stream: a
 * bisection over direct gets finds its end and one purge removes it.
 * (Handles whose clocks disagree can store events slightly out of time
 * order; an event is then purged with its neighbours, a little early or late.)
 */
export async function purgeEvents(
  js: JetStream,
  names: StoreNames,
  ttlMs: number,
  now: number,
): Promise<number> {
  const state = await streamState(js, names);
  if (state.messages === 0) return 0;

  const expired = async (seq: number) => {
    const message = await js.get(names.eventsStream, { seq });
    return message !== null && readJson<EventDraft>(message).at + ttlMs <= now;
  };

  const low = await firstUnexpired(state.first_seq, state.last_seq, expired);
  if (low === state.first_seq) return 0;

  const answer = await js.api<{ purged: number }>(`STREAM.PURGE.${names.eventsStream}`, {
    seq: low,
  });
  return answer.purged;
}

/**
 * The first sequence from `first` to `last` whose event has not expired
 * (`last + 1` when all have), by bisection: the expired events of a stream
 * in time order are a prefix of it.
 */
export async function firstUnexpired(
  first: number,
  last: number,
  expired: (seq: number) => Promise<boolean>,
): Promise<number> {
  let low = first;
  let high = last + 1;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (await expired(mid)) low = mid + 1;
    else high = mid;
  }
  return low;
}
