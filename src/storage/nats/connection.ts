// The connection to NATS and the store's streams and buckets. The client
// reconnects on its own, forever, with a growing pause between attempts;
// this file tells the rest of the backend when the connection goes down and
// comes back, so requests fail fast during an outage and the claim index
// resumes afterwards.
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { StorageError } from "../../errors.js";
import { expirySubject, type StoreNames } from "./names.js";
import type { NatsUrlSettings } from "./url.js";

const RECONNECT_FIRST_MS = 100;
const RECONNECT_MAX_MS = 2_000;

/** What the store hears about its connection. */
export interface ConnectionListener {
  down(reason: string): void;
  up(): void;
}

export async function connectNats(
  settings: NatsUrlSettings,
  timeoutMs: number,
): Promise<{ nc: NatsConnection; resetBackoff(): void }> {
  let attempts = 0;
  try {
    const nc = await connect({
      servers: settings.servers,
      user: settings.user,
      pass: settings.pass,
      token: settings.token,
      name: "omniq",
      timeout: timeoutMs,
      reconnect: true,
      maxReconnectAttempts: -1,
      // Doubling pauses with a little jitter, so many workers do not knock in step.
      reconnectDelayHandler: () => {
        const wait = Math.min(RECONNECT_FIRST_MS * 2 ** attempts, RECONNECT_MAX_MS);
        attempts += 1;
        return wait + Math.floor(Math.random() * RECONNECT_FIRST_MS);
      },
      pingInterval: 5_000,
      maxPingOut: 3,
    });
    return { nc, resetBackoff: () => (attempts = 0) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new StorageError(`could not connect to NATS at ${settings.redacted}: ${reason}`, {
      cause: error,
    });
  }
}

/** Passes the connection's ups and downs to `listener` until the connection closes. */
export function watchConnection(nc: NatsConnection, listener: ConnectionListener): void {
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") listener.down(`disconnected from ${status.server}`);
      if (status.type === "reconnect") listener.up();
    }
  })().catch(() => undefined);

  // The client reports a failed close through this promise; nobody else waits on it.
  nc.closed().catch(() => undefined);
}

/** Creates the store's buckets and streams where they are missing. */
export async function ensureStore(nc: NatsConnection, names: StoreNames): Promise<void> {
  try {
    const kvm = new Kvm(nc);
    await kvm.create(names.tasksBucket, { history: 1 });
    await kvm.create(names.indexBucket, { history: 1 });
    // Added with idempotency keys, permits and schedules: a store made before gets it here.
    await kvm.create(names.stateBucket, { history: 1 });

    const jsm = await jetstreamManager(nc);
    const streams = [
      { name: names.eventsStream, subjects: [`${names.prefix}.events.>`], allow_direct: true },
      { name: names.expiryStream, subjects: [expirySubject(names, "*")], allow_direct: false },
    ];
    for (const stream of streams) {
      const exists = await jsm.streams.info(stream.name).then(
        () => true,
        () => false,
      );
      if (!exists) await jsm.streams.add(stream);
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new StorageError(
      `could not set up the NATS streams of store "${names.prefix}" (is JetStream enabled?): ${reason}`,
      { cause: error },
    );
  }
}

/** Deletes every stream and bucket of a store. */
export async function dropStore(nc: NatsConnection, names: StoreNames): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const all = [
    `KV_${names.tasksBucket}`,
    `KV_${names.indexBucket}`,
    `KV_${names.stateBucket}`,
    names.eventsStream,
    names.expiryStream,
    // The result and event stores kept under the same prefix (side-stream.ts).
    `${names.prefix}-result-store`,
    `${names.prefix}-event-store`,
  ];
  for (const stream of all) await jsm.streams.delete(stream).catch(() => false);
}
