// What OmniQ.open puts together: the storage with results and events where
// the configuration puts them, and the in-process workers; and how a stored
// outcome becomes a result or an error.
import { decodeValue } from "../codec/value.js";
import type { OmniQConfig } from "../config/types.js";
import {
  ConfigError,
  InvalidArgumentError,
  TaskCancelledError,
  TaskExpiredError,
  TaskFailedError,
  toErrorInfo,
  UnknownTaskError,
} from "../errors.js";
import type { Clock, Storage, TaskOutcome } from "../storage/contract.js";
import { openStorage } from "../storage/open.js";
import { splitStorage } from "../storage/split/open.js";
import { redactUrl } from "../util/redact.js";
import { createWorker } from "../workers/factory.js";
import { workerSettingsFromConfig } from "../workers/options.js";
import type { Worker } from "../workers/worker.js";
import type { OpenOptions } from "./types.js";

/**
 * The storage omniq works on: the queue's backend, with results and events
 * where the configuration puts them (see storage/split/). Closing it closes
 * what it opened, never a `storageInstance` given by the application.
 */
export async function openStores(config: OmniQConfig, options: OpenOptions, clock: Clock) {
  if (!config.recordEvents && config.events !== config.storage) {
    throw new ConfigError(
      "events",
      `events: a backend for events is set (${redactUrl(config.events)}), but recordEvents is ` +
        "false, so nothing would go there; unset one of the two",
    );
  }

  const given = options.storageInstance;
  const queue =
    given ?? (await openStorage(config.storage, { clock, recordEvents: config.recordEvents }));
  const apart = (url: string) => (url === config.storage ? undefined : url);
  try {
    const storage = await splitStorage(queue, {
      results: apart(config.results),
      events: config.recordEvents ? apart(config.events) : undefined,
      recordEvents: config.recordEvents,
      clock,
      ownsQueue: !given,
      onError: (error) =>
        config.logger.warn({ err: toErrorInfo(error) }, "copying events to the event store failed"),
    });
    return { storage, owned: !given || storage !== queue };
  } catch (error) {
    if (!given) await queue.close().catch(() => undefined);
    throw error;
  }
}

export function makeWorkers(config: OmniQConfig, storage: Storage, clock: Clock): Worker[] {
  if (config.worker === false) return [];
  const settings = workerSettingsFromConfig(config, config.worker, clock);
  return config.worker.types.map((type) => createWorker(type, storage, settings));
}

export function unpack(id: string, outcome: TaskOutcome | null): unknown {
  if (outcome === null) throw new UnknownTaskError(id);

  switch (outcome.state) {
    case "completed":
      return decodeValue(outcome.result ?? "", "result");
    case "failed":
      throw new TaskFailedError(id, outcome.error ?? { name: "Error", message: "unknown error" });
    case "cancelled":
      throw new TaskCancelledError(id, outcome.error?.message ?? "cancelled");
    case "expired":
      throw new TaskExpiredError(id);
    default:
      throw new InvalidArgumentError(`task ${id} has not ended (state ${outcome.state})`);
  }
}
