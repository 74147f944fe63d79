// The worker's liveness check against real servers: a worker whose wake-up
// connection is killed (Redis CLIENT KILL) or goes silent while staying
// connected (PostgreSQL LISTEN behind a proxy that stops passing the
// server's bytes) has polling an hour apart, so only the check can find the
// task enqueued meanwhile: it must notice, warn, report it in `health()`,
// and run the task. A claim that hangs (a frozen server) shows as stalled
// until it returns. Private servers are used wherever a test disturbs one.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { OmniQ, type OmniQConfigInput, type WorkerHealth } from "../../src/index.js";
import { OFFER_MS } from "../../src/storage/shared/handovers.js";
import { echo } from "../fixtures/tasks.js";
import { type PrivateRedis, privateRedis } from "../helpers/redis-server.js";
import { POSTGRES, POSTGRES_URL, REDIS, skipUnless } from "../helpers/services.js";
import { silencingProxy } from "../helpers/tcp-proxy.js";
import { dropSchema, uniqueSchema } from "../storage/fixtures/postgres-store.js";
import { captureLogger, type LogLine, sleep, until } from "./helpers.js";

const skipRedis = await skipUnless(REDIS);
const skipPostgres = await skipUnless(POSTGRES);

/** A worker that would look for tasks only once an hour without wake-ups, checking every `check`. */
function workerConfig(
  storage: string,
  logger: ReturnType<typeof captureLogger>["logger"],
  check = "300ms",
) {
  return {
    storage,
    pollInterval: "1h",
    stopTimeout: "2s",
    worker: { livenessCheck: check },
    logger,
    logLevel: "debug",
  } satisfies OmniQConfigInput;
}

function healthOf(omniq: OmniQ): WorkerHealth {
  const [worker] = omniq.health().workers;
  assert.ok(worker, "the OmniQ runs a worker");
  return worker;
}

/** Waits for the check's next forced claim round to return, so that the next one is a whole interval away. */
async function afterForcedRound(omniq: OmniQ): Promise<void> {
  const before = healthOf(omniq).lastClaimAt;
  await until(() => healthOf(omniq).lastClaimAt !== before, "a forced claim round", 5_000);
}

/*
 * A Redis claim that finds nothing leaves an offer for OFFER_MS, and an
 * enqueue meanwhile hands its task straight to that worker: a second
 * wake-up path beside pub/sub. The Redis tests check every 2 s and wait
 * until the offer of the last claim has lapsed, so that killing the pub/sub
 * connection leaves no path at all.
 */
const REDIS_CHECK = "2s";

async function afterOfferLapsed(): Promise<void> {
  await sleep(OFFER_MS + 200);
}

function warnings(lines: LogLine[], pattern: RegExp): LogLine[] {
  return lines.filter((line) => line.level === "warn" && pattern.test(line.message));
}

/** What every backend's test checks once the wake-up path is dead and a task was enqueued. */
async function assertNoticed(omniq: OmniQ, lines: LogLine[], producer: OmniQ, id: string) {
  assert.equal(await producer.getResult(id, { timeout: "5s" }), "during");

  const health = healthOf(omniq);
  assert.ok(health.overlooked >= 1, `overlooked: ${health.overlooked}`);
  assert.equal(health.status, "degraded");
  assert.match(health.problem ?? "", /no wake-up/);
  assert.ok(health.lastOverlooked && health.lastOverlooked.waitedMs >= 100, "waited");
  assert.equal(omniq.health().status, "degraded");

  const warned = warnings(lines, /no wake-up/);
  assert.equal(warned.length >= 1, true, "a warning was logged");
  assert.equal(warned[0]?.fields.worker, health.worker);
  assert.ok(Number(warned[0]?.fields.tasks) >= 1);
}

describe("worker liveness check: Redis", { skip: skipRedis }, () => {
  let server: PrivateRedis;
  let admin: Redis;

  before(async () => {
    server = await privateRedis();
    await server.start();
    admin = new Redis(server.url);
  });

  after(async () => {
    admin?.disconnect();
    await server?.remove();
  });

  test("a killed wake-up connection: the check finds the task, warns and reports it", async () => {
    const { logger, lines } = captureLogger();
    const omniq = await OmniQ.open(workerConfig(server.url, logger, REDIS_CHECK));
    const producer = await OmniQ.open({ storage: server.url, worker: false });
    try {
      assert.deepEqual(producer.health(), { status: "ok", workers: [] });

      // With wake-ups working, the task comes by its wake-up, and the check sees nothing amiss.
      const first = await producer.enqueue(echo, "before");
      assert.equal(await producer.getResult(first, { timeout: "5s" }), "before");
      assert.equal(healthOf(omniq).overlooked, 0);
      assert.equal(healthOf(omniq).status, "ok");

      await afterForcedRound(omniq);
      await afterOfferLapsed();
      const killed = await admin.client("KILL", "TYPE", "pubsub");
      assert.ok(Number(killed) >= 1, "a pub/sub connection was killed");
      // Enqueued before the client has reconnected (its first retry waits 100 ms): no one hears it.
      const during = await producer.enqueue(echo, "during");
      await assertNoticed(omniq, lines, producer, during);

      // Once the connection is back, wake-ups arrive again and the status returns to ok.
      await until(async () => (await pubsubClients(admin)) >= 2, "reconnected subscribers");
      const overlooked = healthOf(omniq).overlooked;
      const third = await producer.enqueue(echo, "after");
      assert.equal(await producer.getResult(third, { timeout: "5s" }), "after");
      await until(() => healthOf(omniq).status === "ok", "status ok again", 3_000);
      assert.equal(healthOf(omniq).overlooked, overlooked);
    } finally {
      await producer.close();
      await omniq.close();
    }
  });

  test("without the check, the same task waits for the next poll", async () => {
    const { logger } = captureLogger();
    const config = workerConfig(server.url, logger);
    const omniq = await OmniQ.open({ ...config, worker: { livenessCheck: 0 } });
    const producer = await OmniQ.open({ storage: server.url, worker: false });
    try {
      await until(async () => (await pubsubClients(admin)) >= 2, "subscribers");
      await afterOfferLapsed();
      await admin.client("KILL", "TYPE", "pubsub");
      const id = await producer.enqueue(echo, "stranded");

      await sleep(1_500);
      assert.equal((await producer.getTask(id)).state, "pending");
      assert.equal(healthOf(omniq).overlooked, 0);
      await producer.cancel(id);
    } finally {
      await producer.close();
      await omniq.close();
    }
  });

  test("a claim that does not return shows as stalled until it does", async () => {
    const { logger, lines } = captureLogger();
    const omniq = await OmniQ.open({ ...workerConfig(server.url, logger), pollInterval: 50 });
    const producer = await OmniQ.open({ storage: server.url, worker: false });
    try {
      await until(() => healthOf(omniq).lastClaimAt !== null, "a first claim");

      server.pause();
      try {
        await until(() => healthOf(omniq).status === "stalled", "status stalled", 3_000);
        const health = healthOf(omniq);
        assert.match(health.problem ?? "", /a claim has been running for \d+ ms/);
        assert.ok((health.claimRunningMs ?? 0) >= 300, `running ${health.claimRunningMs} ms`);
        assert.equal(omniq.health().status, "stalled");
        assert.equal(warnings(lines, /a claim has not returned/).length, 1);
      } finally {
        server.resume();
      }

      await until(() => healthOf(omniq).status === "ok", "status ok again", 5_000);
      assert.equal(healthOf(omniq).claimRunningMs, null);
      assert.ok(lines.some((line) => /the stuck claim returned/.test(line.message)));
      const id = await producer.enqueue(echo, "resumed");
      assert.equal(await producer.getResult(id, { timeout: "5s" }), "resumed");
    } finally {
      await producer.close();
      await omniq.close();
    }
  });
});

describe("worker liveness check: PostgreSQL", { skip: skipPostgres }, () => {
  test("a LISTEN connection that stays open but goes silent: the check finds the task", async () => {
    const target = new URL(POSTGRES_URL);
    const proxy = await silencingProxy(target.hostname, Number(target.port || 5432));
    const schema = uniqueSchema("live");
    const direct = new URL(POSTGRES_URL);
    direct.searchParams.set("schema", schema);
    const proxied = new URL(direct);
    proxied.hostname = "127.0.0.1";
    proxied.port = String(proxy.port);

    const { logger, lines } = captureLogger();
    const omniq = await OmniQ.open(workerConfig(proxied.href, logger));
    const producer = await OmniQ.open({ storage: direct.href, worker: false });
    try {
      const first = await producer.enqueue(echo, "before");
      assert.equal(await producer.getResult(first, { timeout: "5s" }), "before");
      assert.equal(healthOf(omniq).overlooked, 0);

      proxy.silence("LISTEN");
      assert.equal(proxy.silenced(), 1, "the worker's listening connection is silenced");
      await afterForcedRound(omniq);
      const during = await producer.enqueue(echo, "during");
      await assertNoticed(omniq, lines, producer, during);
    } finally {
      await producer.close();
      await omniq.close();
      await proxy.close();
      await dropSchema(schema);
    }
  });
});

async function pubsubClients(admin: Redis): Promise<number> {
  const list = String(await admin.call("CLIENT", "LIST", "TYPE", "pubsub"));
  return list.split("\n").filter((line) => line.trim()).length;
}
