// Finds out whether a server a test needs is answering. On a user's machine a
// missing server makes its tests skip with a message saying how to start it;
// with OMNIQ_REQUIRE_SERVICES=1 (set by .ci/run) it fails them instead.
import { connect } from "node:net";

export interface Service {
  name: string;
  host: string;
  port: number;
  /** How to start it, for the skip message. */
  start: string;
}

export const REDIS: Service = {
  name: "Redis",
  host: "127.0.0.1",
  port: 6379,
  start: "redis-server --daemonize yes --port 6379",
};

export const POSTGRES: Service = {
  name: "PostgreSQL",
  host: "127.0.0.1",
  port: 5432,
  start: "pg_ctlcluster <version> main start (trust auth, database `test`)",
};

export const NATS: Service = {
  name: "NATS with JetStream",
  host: "127.0.0.1",
  port: 4222,
  start: "nats-server -js -a 127.0.0.1 -p 4222",
};

export const REDIS_URL = process.env.OMNIQ_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
export const POSTGRES_URL =
  process.env.OMNIQ_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const NATS_URL = process.env.OMNIQ_TEST_NATS_URL ?? "nats://127.0.0.1:4222";

function answers(service: Service, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: service.host, port: service.port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * Resolves to `false` when the service answers (run the tests), or to a skip
 * message when it does not. Throws when OMNIQ_REQUIRE_SERVICES=1, so CI cannot
 * pass by skipping.
 */
export async function skipUnless(service: Service): Promise<string | false> {
  // Asked three times: a busy event loop can let the timeout fire before the connect is seen.
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await answers(service)) return false;
  }

  const message =
    `${service.name} is not answering on ${service.host}:${service.port}; ` +
    `start it with: ${service.start}`;
  if (process.env.OMNIQ_REQUIRE_SERVICES === "1") {
    throw new Error(`OMNIQ_REQUIRE_SERVICES=1 but ${message}`);
  }
  return message;
}
