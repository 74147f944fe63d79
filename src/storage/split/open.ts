import { InvalidArgumentError } from "../../errors.js";
import { redactUrl } from "../../util/redact.js";
import type { Clock, Storage } from "../contract.js";
import { openEventStore, openResultStore } from "../open-stores.js";
import type { EventStore, ResultStore } from "../stores.js";
import { SplitStorage } from "./split-storage.js";

/** Where results and events go when not with the queue. */
export interface SplitSettings {
  /** A result store URL; undefined keeps results with the queue. */
  results?: string | undefined;
  /** An event store URL; undefined keeps events with the queue. */
  events?: string | undefined;
  /** False when the queue records no events, which then cannot go anywhere. */
  recordEvents: boolean;
  clock: Clock;
  /** Whether closing the result closes the queue too. */
  ownsQueue: boolean;
  /** Told about failures a read survives. @default drop them */
  onError?: (error: unknown) => void;
}

/**
 * The queue itself when results and events stay with it (nothing in
 * between, so the default costs nothing), else a `SplitStorage` over it.
 */
export async function splitStorage(queue: Storage, settings: SplitSettings): Promise<Storage> {
  const { results, events } = settings;
  if (results === undefined && events === undefined) return queue;
  if (events !== undefined && !settings.recordEvents) {
    throw new InvalidArgumentError(
      `events: a backend for events (${redactUrl(events)}) is set, but recordEvents is false, ` +
        "so there would be nothing to put there; unset one of the two",
    );
  }

  let resultStore: ResultStore | null = null;
  let eventStore: EventStore | null = null;
  try {
    if (results !== undefined) resultStore = await openResultStore(results);
    if (events !== undefined) eventStore = await openEventStore(events);
  } catch (error) {
    await resultStore?.close().catch(() => undefined);
    throw error;
  }

  return new SplitStorage({
    queue,
    results: resultStore,
    events: eventStore,
    clock: settings.clock,
    ownsQueue: settings.ownsQueue,
    onError: settings.onError ?? (() => {}),
  });
}
