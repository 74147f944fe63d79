// Reading streams through ephemeral push consumers with no acks: `Follower`
// keeps up with a stream for as long as the store is open, and `scan` reads
// a stream's current contents once. Both are thin on purpose: the messages
// are the server's, the bookkeeping is ours (sequence gaps, heartbeats,
// reconnects), so a consumer lost in a server restart is replaced from the
// last sequence seen rather than after the client's 60 s heartbeat timeout.
import {
  createInbox,
  type Msg,
  type NatsConnection,
  type Subscription,
} from "@nats-io/transport-node";
import { StorageError } from "../../errors.js";
import type { JetStream, StoredMessage } from "./jetstream.js";

/** A message as a consumer delivers it. */
export interface DeliveredMessage extends StoredMessage {
  /** Messages left after this one when it was sent. */
  pending: number;
  /** The consumer's delivery sequence, to spot gaps. */
  delivery: number;
}

/** Where a consumer starts: at each subject's last message, or at a sequence. */
export type StartAt = { lastPerSubject: true } | { seq: number };

interface ConsumerSpec {
  stream: string;
  filter: string;
  start: StartAt;
  headersOnly?: boolean;
  heartbeatMs: number;
}

const NS_PER_MS = 1_000_000;
/** A scan that hears nothing for this long has had everything. */
const SCAN_HEARTBEAT_MS = 1_000;
/** A scan that hears not even a heartbeat for this long has lost its consumer. */
const SCAN_SILENCE_MS = 5_000;

/**
 * Reads `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>` (and the v2 form).
 */
function ackInfo(reply: string): { seq: number; delivery: number; time: number; pending: number } {
  const t = reply.split(".");
  const at = t.length >= 12 ? 7 : 5;
  return {
    seq: Number(t[at]),
    delivery: Number(t[at + 1]),
    time: Math.floor(Number(t[at + 2]) / NS_PER_MS),
    pending: Number(t[at + 3]),
  };
}

/** A delivered message, or null for flow control and heartbeats (answered here). */
export function delivered(nc: NatsConnection, msg: Msg): DeliveredMessage | null {
  const code = msg.headers?.code ?? 0;
  if (code === 100) {
    // Flow control asks for a reply; a heartbeat may name a subject that unsticks a stalled
    // consumer.
    if (msg.reply) nc.publish(msg.reply, "");
    const stalled = msg.headers?.get("Nats-Consumer-Stalled");
    if (stalled) nc.publish(stalled, "");
    return null;
  }
  if (!msg.reply?.startsWith("$JS.ACK.")) return null;

  const info = ackInfo(msg.reply);
  const message: DeliveredMessage = { ...info, subject: msg.subject, data: msg.data };
  const operation = msg.headers?.get("KV-Operation");
  if (operation) message.operation = operation;
  return message;
}

/** Creates an ephemeral push consumer delivering to `deliverTo`; answers its name and backlog. */
export async function createConsumer(
  js: JetStream,
  spec: ConsumerSpec,
  deliverTo: string,
): Promise<{ name: string; pending: number }> {
  const config: Record<string, unknown> = {
    deliver_subject: deliverTo,
    ack_policy: "none",
    max_deliver: 1,
    flow_control: true,
    idle_heartbeat: spec.heartbeatMs * NS_PER_MS,
    filter_subject: spec.filter,
    mem_storage: true,
    headers_only: spec.headersOnly ?? false,
  };
  if ("seq" in spec.start) {
    config.deliver_policy = "by_start_sequence";
    config.opt_start_seq = spec.start.seq;
  } else {
    config.deliver_policy = "last_per_subject";
  }

  const info = await js.api<{ name: string; num_pending: number }>(
    `CONSUMER.CREATE.${spec.stream}`,
    { stream_name: spec.stream, config },
  );
  return { name: info.name, pending: info.num_pending };
}

export async function deleteConsumer(js: JetStream, stream: string, name: string): Promise<void> {
  await js.apiOrError(`CONSUMER.DELETE.${stream}.${name}`).catch(() => undefined);
}

/**
 * Reads every message a fresh consumer would deliver now, then stops. With
 * `lastPerSubject` this is the current value of every key of a bucket.
 *
 * The end is the message that says nothing is left after it, or else the
 * server's first idle heartbeat: after an unclean restart a 2.9 server can
 * miscount what is left, and waiting for a count that never comes would
 * never end. (The same restart can also leave a key's older message beside
 * its newest one; callers keep the newest per subject.)
 */
export async function scan(
  nc: NatsConnection,
  js: JetStream,
  spec: Omit<ConsumerSpec, "heartbeatMs">,
  onMessage: (message: DeliveredMessage) => void,
): Promise<void> {
  const inbox = createInbox();
  let sub: Subscription | undefined;
  let creating: Promise<{ name: string; pending: number }> | undefined;
  let received = 0;
  let timer: NodeJS.Timeout | undefined;

  const done = new Promise<void>((resolve, reject) => {
    // Silence longer than a few heartbeats means the consumer or the connection is gone.
    const silence = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const after = `${received} messages`;
        reject(new StorageError(`NATS stopped delivering ${spec.stream} after ${after}`));
      }, SCAN_SILENCE_MS);
    };
    const finish = () => {
      clearTimeout(timer);
      resolve();
    };
    silence();
    sub = nc.subscribe(inbox, {
      callback: (error, msg) => {
        if (error) return;
        silence();
        if (msg.headers?.code === 100 && !msg.reply) return finish(); // idle heartbeat: nothing left
        const message = delivered(nc, msg);
        if (!message) return;
        received += 1;
        onMessage(message);
        if (message.pending === 0) finish();
      },
    });
    creating = createConsumer(js, { ...spec, heartbeatMs: SCAN_HEARTBEAT_MS }, inbox);
    creating.then((created) => {
      if (created.pending === 0) finish();
    }, reject);
  });

  try {
    await done;
  } finally {
    clearTimeout(timer);
    sub?.unsubscribe();
    const created = await creating?.catch(() => undefined);
    if (created) await deleteConsumer(js, spec.stream, created.name);
  }
}
