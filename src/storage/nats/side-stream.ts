import {
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  type StreamInfo,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { StorageError } from "../../errors.js";
import { connectNats } from "./connection.js";
import { storeNames } from "./names.js";
import { type NatsUrlSettings, parseNatsUrl } from "./url.js";

const DEFAULT_PREFIX = "omniq";
const TIMEOUT_MS = 5_000;

/**
 * The stream of a result or event store, `<prefix>-<kind>` with subjects
 * `<prefix>.<kind>.>`, and the connection to it. These stores use the
 * official clients as they are: they are not on the path of every claim.
 */
export class SideStream {
  private closing: Promise<void> | null = null;

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    /** The stream's name. */
    readonly stream: string,
    /** Every subject of the stream starts with it, and a dot. */
    readonly subjectBase: string,
    private readonly settings: NatsUrlSettings,
  ) {}

  /** Connects to the server a `nats://` URL names and creates the stream if it is missing. */
  static async open(url: string, kind: string): Promise<SideStream> {
    const settings = parseNatsUrl(url);
    const { prefix } = storeNames(settings.prefix ?? DEFAULT_PREFIX);
    const stream = `${prefix}-${kind}`;
    const subjectBase = `${prefix}.${kind}`;
    const { nc } = await connectNats(settings, TIMEOUT_MS);

    try {
      const jsm = await jetstreamManager(nc, { timeout: TIMEOUT_MS });
      const exists = await jsm.streams.info(stream).then(
        () => true,
        () => false,
      );
      if (!exists) {
        await jsm.streams.add({ name: stream, subjects: [`${subjectBase}.>`], allow_direct: true });
      }
      const js = jetstream(nc, { timeout: TIMEOUT_MS });
      return new SideStream(nc, js, jsm, stream, subjectBase, settings);
    } catch (error) {
      await nc.close().catch(() => undefined);
      throw new StorageError(
        `could not set up the NATS stream ${stream} at ${settings.redacted} (is JetStream enabled?): ${reasonOf(error)}`,
        { cause: error },
      );
    }
  }

  /** The stream's state, optionally with the message count of each subject matching a filter. */
  async state(subjectsFilter?: string): Promise<StreamInfo["state"]> {
    const options = subjectsFilter === undefined ? undefined : { subjects_filter: subjectsFilter };
    return (await this.jsm.streams.info(this.stream, options)).state;
  }

  /** Runs `body`, failing fast once closed and wrapping what the client throws. */
  async run<T>(operation: string, body: () => Promise<T>): Promise<T> {
    if (this.closing) {
      throw new StorageError(`${operation}: the NATS stream ${this.stream} is closed`);
    }
    try {
      return await body();
    } catch (error) {
      if (error instanceof StorageError) throw error;
      throw new StorageError(
        `NATS ${operation} on ${this.stream} at ${this.settings.redacted} failed: ${reasonOf(error)}`,
        { cause: error },
      );
    }
  }

  close(): Promise<void> {
    this.closing ??= this.nc.close().catch(() => undefined);
    return this.closing;
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Whether a publish failed because the stream's last sequence was not the one expected. */
export function isWrongLastSequence(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === 10071;
}
