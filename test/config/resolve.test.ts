import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { DEFAULT_STORAGE, resolveConfig, resolveConfigSync } from "../../src/config/resolve.js";
import type { OmniQConfig, WorkerConfig } from "../../src/config/types.js";

const dir = mkdtempSync(join(tmpdir(), "omniq-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function workerOf(config: OmniQConfig): WorkerConfig {
  assert.ok(config.worker, "expected worker options, got worker: false");
  return config.worker;
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("resolveConfig defaults", () => {
  test("no input and no environment gives every default", async () => {
    const config = await resolveConfig({}, {});
    const { logger, ...rest } = config;

    assert.deepEqual(rest, {
      configFile: null,
      storage: DEFAULT_STORAGE,
      results: DEFAULT_STORAGE,
      events: DEFAULT_STORAGE,
      defaultWorker: "async",
      worker: {
        concurrency: undefined,
        queues: ["default"],
        tasks: [],
        types: ["async"],
        syncInThreads: false,
        abortGraceMs: undefined,
        blockWarningMs: undefined,
        livenessCheckMs: undefined,
        coordinate: true,
        memoryLimitMb: undefined,
        recycleAfterTasks: undefined,
        recycleAboveMb: undefined,
      },
      leaseMs: 30_000,
      heartbeatMs: 10_000,
      stopTimeoutMs: 10_000,
      pollIntervalMs: 200,
      eventTtlMs: 7 * 86_400_000,
      recordEvents: true,
      maxLeaseLosses: 3,
      defaults: {
        queue: "default",
        priority: 0,
        timeoutMs: null,
        retries: 0,
        backoff: { type: "exponential", baseMs: 1000, maxMs: 3_600_000, jitter: true },
        ttlMs: null,
        resultTtlMs: 86_400_000,
      },
      logLevel: "silent",
    });
    assert.equal(logger.isEnabled("error"), false);
  });

  test("results and events follow storage; worker types follow defaultWorker", async () => {
    const config = await resolveConfig({ storage: "memory://", defaultWorker: "thread" }, {});

    assert.equal(config.results, "memory://");
    assert.equal(config.events, "memory://");
    assert.deepEqual(workerOf(config).types, ["thread"]);
  });

  test("heartbeat defaults to a third of the lease", async () => {
    const config = await resolveConfig({ lease: "1m" }, {});
    assert.equal(config.leaseMs, 60_000);
    assert.equal(config.heartbeatMs, 20_000);
  });

  test("worker: false makes a producer", async () => {
    assert.equal((await resolveConfig({ worker: false }, {})).worker, false);
  });

  test("task defaults are turned into milliseconds and a BackoffSpec", async () => {
    const config = await resolveConfig(
      {
        defaults: {
          queue: "mail",
          priority: -2,
          timeout: "2m",
          retries: 4,
          backoff: { type: "fixed", delay: 1500 },
          ttl: "1h",
          resultTtl: 0,
        },
      },
      {},
    );

    assert.deepEqual(config.defaults, {
      queue: "mail",
      priority: -2,
      timeoutMs: 120_000,
      retries: 4,
      backoff: { type: "fixed", delayMs: 1500 },
      ttlMs: 3_600_000,
      resultTtlMs: 0,
    });
  });

  test("a partial exponential backoff keeps the other defaults", async () => {
    const config = await resolveConfig(
      { defaults: { backoff: { type: "exponential", base: "5s" } } },
      {},
    );
    assert.deepEqual(config.defaults.backoff, {
      type: "exponential",
      baseMs: 5000,
      maxMs: 3_600_000,
      jitter: true,
    });
  });

  test("an explicit undefined leaves the field to earlier sources", async () => {
    const config = await resolveConfig({ lease: undefined, storage: undefined }, {});
    assert.equal(config.leaseMs, 30_000);
    assert.equal(config.storage, DEFAULT_STORAGE);
  });
});

describe("resolveConfig sources, later ones winning", () => {
  const yaml = file(
    "layers.yaml",
    [
      "storage: redis://localhost:6379",
      "lease: 20s",
      "recordEvents: false",
      "worker:",
      "  concurrency: 4",
      "  queues: [a, b]",
      "defaults:",
      "  retries: 2",
      "  queue: from-file",
    ].join("\n"),
  );

  test("the file over the defaults", async () => {
    const config = await resolveConfig({ configFile: yaml }, {});

    assert.equal(config.configFile, yaml);
    assert.equal(config.storage, "redis://localhost:6379");
    assert.equal(config.leaseMs, 20_000);
    assert.equal(config.recordEvents, false);
    assert.deepEqual([workerOf(config).concurrency, workerOf(config).queues], [4, ["a", "b"]]);
  });

  test("the object over the file, field by field inside worker and defaults", async () => {
    const config = await resolveConfig(
      { configFile: yaml, lease: 5000, worker: { concurrency: 8 }, defaults: { retries: 7 } },
      {},
    );

    assert.equal(config.leaseMs, 5000);
    assert.equal(config.storage, "redis://localhost:6379", "kept from the file");
    assert.deepEqual([workerOf(config).concurrency, workerOf(config).queues], [8, ["a", "b"]]);
    assert.deepEqual([config.defaults.retries, config.defaults.queue], [7, "from-file"]);
  });

  test("the environment over the object", async () => {
    const config = await resolveConfig(
      { configFile: yaml, lease: 5000, worker: { concurrency: 8 } },
      { OMNIQ_LEASE: "45s", OMNIQ_CONCURRENCY: "12", OMNIQ_STORAGE: "nats://n:4222" },
    );

    assert.equal(config.leaseMs, 45_000);
    assert.equal(config.storage, "nats://n:4222");
    assert.deepEqual([workerOf(config).concurrency, workerOf(config).queues], [12, ["a", "b"]]);
  });

  test("OMNIQ_CONFIG names the file and wins over configFile", async () => {
    const other = file("other.json", JSON.stringify({ storage: "memory://" }));
    const config = await resolveConfig({ configFile: yaml }, { OMNIQ_CONFIG: other });

    assert.equal(config.configFile, other);
    assert.equal(config.storage, "memory://");
  });

  test("worker: false in the object over worker options in the file", async () => {
    const config = await resolveConfig({ configFile: yaml, worker: false }, {});
    assert.equal(config.worker, false);
  });

  test("worker options in the object turn the file's worker: false back on", async () => {
    const producer = file("producer.yml", "worker: false\n");
    const config = await resolveConfig({ configFile: producer, worker: { concurrency: 2 } }, {});
    assert.equal(workerOf(config).concurrency, 2);
  });

  test("worker variables tune a worker but do not make a producer run one", async () => {
    const config = await resolveConfig(
      { worker: false },
      { OMNIQ_CONCURRENCY: "5", OMNIQ_QUEUES: "a" },
    );
    assert.equal(config.worker, false);
  });

  test("an empty config file means no options", async () => {
    const empty = file("empty.yaml", "# nothing yet\n");
    const config = await resolveConfig({ configFile: empty }, {});
    assert.equal(config.storage, DEFAULT_STORAGE);
  });

  test("resolveConfigSync reads the same", async () => {
    const input = { configFile: yaml, lease: 5000 };
    const env = { OMNIQ_CONCURRENCY: "3" };
    const { logger: _a, ...sync } = resolveConfigSync(input, env);
    const { logger: _b, ...async } = await resolveConfig(input, env);
    assert.deepEqual(sync, async);
  });
});

describe("resolveConfig reads environment variables", () => {
  test("numbers, booleans, lists, durations and names", async () => {
    const config = await resolveConfig(
      {},
      {
        OMNIQ_CONCURRENCY: " 25 ",
        OMNIQ_QUEUES: "high, default ,,low",
        OMNIQ_RECORD_EVENTS: "0",
        OMNIQ_LEASE: "90000",
        OMNIQ_STOP_TIMEOUT: "1.5s",
        OMNIQ_POLL_INTERVAL: "50ms",
        OMNIQ_DEFAULT_WORKER: "process",
        OMNIQ_LOG_LEVEL: "warn",
        OMNIQ_RESULTS: "postgres://db/results",
        OMNIQ_EVENTS: "rediss://cache",
      },
    );

    assert.deepEqual(config.worker, {
      concurrency: 25,
      queues: ["high", "default", "low"],
      tasks: [],
      types: ["process"],
      syncInThreads: false,
      abortGraceMs: undefined,
      blockWarningMs: undefined,
      livenessCheckMs: undefined,
      coordinate: true,
      memoryLimitMb: undefined,
      recycleAfterTasks: undefined,
      recycleAboveMb: undefined,
    });
    assert.equal(config.recordEvents, false);
    assert.equal(config.leaseMs, 90_000);
    assert.equal(config.stopTimeoutMs, 1500);
    assert.equal(config.pollIntervalMs, 50);
    assert.equal(config.logLevel, "warn");
    assert.equal(config.results, "postgres://db/results");
    assert.equal(config.events, "rediss://cache");
  });

  test("true, TRUE and 1 are all true", async () => {
    for (const text of ["true", "TRUE", "1"]) {
      const config = await resolveConfig({ recordEvents: false }, { OMNIQ_RECORD_EVENTS: text });
      assert.equal(config.recordEvents, true, text);
    }
  });

  test("an empty variable counts as unset", async () => {
    const config = await resolveConfig({ lease: "7s" }, { OMNIQ_LEASE: "", OMNIQ_STORAGE: "  " });
    assert.equal(config.leaseMs, 7000);
    assert.equal(config.storage, DEFAULT_STORAGE);
  });

  test("variables without the OMNIQ_ prefix are ignored", async () => {
    const config = await resolveConfig({}, { LEASE: "1s", omniq_lease: "1s" });
    assert.equal(config.leaseMs, 30_000);
  });
});

describe("resolveConfig worker options for threads, processes and gevent", () => {
  test("durations become ms and limits are checked", async () => {
    const config = await resolveConfig(
      {
        worker: {
          syncInThreads: true,
          abortGrace: "2s",
          blockWarning: 50,
          memoryLimitMb: 256,
          recycleAfterTasks: 100,
          recycleAboveMb: 512,
        },
      },
      {},
    );
    assert.ok(config.worker);
    assert.equal(config.worker.syncInThreads, true);
    assert.equal(config.worker.abortGraceMs, 2_000);
    assert.equal(config.worker.blockWarningMs, 50);
    assert.equal(config.worker.memoryLimitMb, 256);
    assert.equal(config.worker.recycleAfterTasks, 100);
    assert.equal(config.worker.recycleAboveMb, 512);

    await assert.rejects(
      resolveConfig({ worker: { memoryLimitMb: 4 } }, {}),
      /worker\.memoryLimitMb: 4 \(from the options object\) is not allowed; use a whole number from 16/,
    );
  });
});
