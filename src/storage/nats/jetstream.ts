// The few JetStream operations the backend needs, spoken directly over the
// pipelined `Wire`: publish with an expected last sequence (the KV
// compare-and-set), KV delete markers, direct gets, and JSON API calls.
import { type Msg, type MsgHdrs, headers as natsHeaders } from "@nats-io/transport-node";
import { StorageError } from "../../errors.js";
import { keySubject } from "./names.js";
import type { Wire } from "./wire.js";

/** A compare-and-set lost: the key changed since the revision the writer read. */
export class WriteConflict extends Error {
  override name = "WriteConflict";
}

/** A message read back from a stream. */
export interface StoredMessage {
  seq: number;
  subject: string;
  data: Uint8Array;
  /** Server time of the write, ms since the epoch. */
  time: number;
  /** `DEL` or `PURGE` for a KV delete marker, else undefined. */
  operation?: string;
}

interface ApiError {
  code: number;
  err_code?: number;
  description?: string;
}

const WRONG_LAST_SEQUENCE = 10071;
const decoder = new TextDecoder();

/** Throws when a reply is a NATS status such as 503 (no responders) instead of an answer. */
function checkStatus(msg: Msg, what: string): void {
  const code = msg.headers?.code ?? 0;
  if (code >= 300) {
    const detail = code === 503 ? "no JetStream responder (is the stream there?)" : "";
    throw new StorageError(`NATS ${what}: ${code} ${msg.headers?.description ?? ""} ${detail}`);
  }
}

function apiError(body: { error?: ApiError }): ApiError | undefined {
  return body.error;
}

export class JetStream {
  constructor(private readonly wire: Wire) {}

  /**
   * Stores a message; `expect` is the sequence the subject's last message must
   * have (0: none), which makes the write a compare-and-set. Resolves with the
   * new message's sequence.
   */
  async publish(
    subject: string,
    data: string | Uint8Array,
    expect?: number,
    operation?: "DEL",
  ): Promise<number> {
    let hdrs: MsgHdrs | undefined;
    if (expect !== undefined || operation) {
      hdrs = natsHeaders();
      if (expect !== undefined) hdrs.set("Nats-Expected-Last-Subject-Sequence", String(expect));
      if (operation) hdrs.set("KV-Operation", operation);
    }

    const reply = await this.wire.request(subject, data, hdrs);
    checkStatus(reply, `write to ${subject}`);
    const ack = JSON.parse(decoder.decode(reply.data)) as { seq?: number; error?: ApiError };
    const error = apiError(ack);
    if (error?.err_code === WRONG_LAST_SEQUENCE) throw new WriteConflict(subject);
    if (error || ack.seq === undefined) {
      throw new StorageError(
        `NATS refused a write to ${subject}: ${error?.description ?? "no ack"}`,
      );
    }
    return ack.seq;
  }

  /** Writes `value` under `key` of a KV bucket; `expect` as in `publish`. */
  put(bucket: string, key: string, value: string, expect?: number): Promise<number> {
    return this.publish(keySubject(bucket, key), value, expect);
  }

  /** Writes a KV delete marker for `key`. */
  remove(bucket: string, key: string, expect?: number): Promise<number> {
    return this.publish(keySubject(bucket, key), "", expect, "DEL");
  }

  /** Reads one message of a stream that allows direct gets; null when there is none. */
  async get(
    stream: string,
    query: { seq: number } | { last_by_subj: string } | { next_by_subj: string; seq: number },
  ): Promise<StoredMessage | null> {
    const reply = await this.wire.request(`$JS.API.DIRECT.GET.${stream}`, JSON.stringify(query));
    const hdrs = reply.headers;
    if (hdrs?.code === 404) return null;
    checkStatus(reply, `read from ${stream}`);
    if (!hdrs) throw new StorageError(`NATS read from ${stream}: a reply without headers`);

    const message: StoredMessage = {
      seq: Number(hdrs.get("Nats-Sequence")),
      subject: hdrs.get("Nats-Subject"),
      data: reply.data,
      time: Date.parse(hdrs.get("Nats-Time-Stamp")),
    };
    const operation = hdrs.get("KV-Operation");
    if (operation) message.operation = operation;
    return message;
  }

  /** The current value of a KV key with its revision, or null when absent or deleted. */
  async getKey(bucket: string, key: string): Promise<StoredMessage | null> {
    const message = await this.get(`KV_${bucket}`, { last_by_subj: keySubject(bucket, key) });
    if (!message || message.operation) return null;
    return message;
  }

  /** Calls a JetStream API (`$JS.API.<name>`); resolves with the JSON answer. */
  async api<T extends object>(name: string, body: unknown = {}): Promise<T> {
    const answer = await this.apiOrError<T>(name, body);
    if ("error" in answer) {
      throw new StorageError(
        `NATS ${name} failed: ${answer.error.description ?? answer.error.code}`,
      );
    }
    return answer;
  }

  /** As `api`, but hands back a refusal as `{ error }` for callers that expect some. */
  async apiOrError<T extends object>(
    name: string,
    body: unknown = {},
  ): Promise<T | { error: ApiError }> {
    const reply = await this.wire.request(`$JS.API.${name}`, JSON.stringify(body));
    checkStatus(reply, name);
    const answer = JSON.parse(decoder.decode(reply.data)) as T & { error?: ApiError };
    const error = apiError(answer);
    return error ? { error } : answer;
  }
}

/** Decodes a stored message's JSON body. */
export function readJson<T>(message: StoredMessage): T {
  return JSON.parse(decoder.decode(message.data)) as T;
}
