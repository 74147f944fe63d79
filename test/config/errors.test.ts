import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { resolveConfig } from "../../src/config/resolve.js";
import type { OmniQConfigInput } from "../../src/config/types.js";
import { ConfigError } from "../../src/errors.js";

const dir = mkdtempSync(join(tmpdir(), "omniq-config-errors-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function failure(input: unknown, env: Record<string, string> = {}): Promise<ConfigError> {
  try {
    await resolveConfig(input as OmniQConfigInput, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `threw ${String(error)}`);
    return error;
  }
  assert.fail("resolveConfig did not throw");
}

describe("ConfigError messages name the field, the value, the source and what is allowed", () => {
  test("out of range, from a variable", async () => {
    const error = await failure({}, { OMNIQ_CONCURRENCY: "-3" });

    assert.equal(error.field, "worker.concurrency");
    assert.equal(
      error.message,
      "worker.concurrency: -3 (from OMNIQ_CONCURRENCY) is not allowed; use a whole number from 1 to 100000",
    );
  });

  test("bad type, from the options object", async () => {
    const error = await failure({ worker: { concurrency: "many" } });
    assert.equal(
      error.message,
      'worker.concurrency: "many" (from the options object) is not allowed; use a whole number from 1 to 100000',
    );
  });

  test("a variable that is not a number keeps its text", async () => {
    const error = await failure({}, { OMNIQ_CONCURRENCY: "ten" });
    assert.match(error.message, /^worker\.concurrency: "ten" \(from OMNIQ_CONCURRENCY\)/);
  });

  test("a fraction where a whole number is needed", async () => {
    const error = await failure({ maxLeaseLosses: 1.5 });
    assert.equal(error.field, "maxLeaseLosses");
    assert.match(error.message, /1\.5 .* use a whole number from 1 up/);
  });

  test("a bad boolean from a variable", async () => {
    const error = await failure({}, { OMNIQ_RECORD_EVENTS: "maybe" });
    assert.equal(
      error.message,
      'recordEvents: "maybe" (from OMNIQ_RECORD_EVENTS) is not allowed; use true or false',
    );
  });

  test("a bad duration", async () => {
    const error = await failure({ lease: "3 weeks" });
    assert.equal(error.field, "lease");
    assert.match(
      error.message,
      /^lease: "3 weeks" \(from the options object\) is not allowed; use a duration/,
    );
    assert.match(error.message, /"30s"/);
  });

  test("a zero lease and a negative timeout", async () => {
    assert.match((await failure({ lease: 0 })).message, /^lease: 0 .* a duration above 0/);
    assert.equal((await failure({ defaults: { timeout: -5 } })).field, "defaults.timeout");
  });

  test("a bad duration from a variable", async () => {
    const error = await failure({}, { OMNIQ_POLL_INTERVAL: "often" });
    assert.match(error.message, /^pollInterval: "often" \(from OMNIQ_POLL_INTERVAL\)/);
  });

  test("a storage URL with an unknown scheme, password hidden", async () => {
    const error = await failure({ storage: "mysql://user:hunter2@db/queue" });

    assert.equal(error.field, "storage");
    assert.ok(!error.message.includes("hunter2"), error.message);
    assert.match(
      error.message,
      /^storage: "mysql:\/\/user:\*\*\*@db\/queue" \(from the options object\)/,
    );
    assert.match(error.message, /memory:\/\/, file:\/\/, sqlite:\/\/, postgres:\/\/.*nats:\/\//);
  });

  test("a storage value that is not a URL, from a variable", async () => {
    const error = await failure({}, { OMNIQ_RESULTS: "localhost:6379" });
    assert.match(
      error.message,
      /^results: "localhost:6379" \(from OMNIQ_RESULTS\) is not allowed; use a URL/,
    );
  });

  test("an unknown key names it, suggests the one meant and lists the known ones", async () => {
    const error = await failure({ leese: "30s" });

    assert.equal(error.field, "leese");
    assert.match(
      error.message,
      /^leese \(from the options object\) is not a known option\. Did you mean lease\?/,
    );
    assert.match(error.message, /Known options: configFile, storage, .*lease, heartbeat/);
  });

  test("an unknown nested key lists that object's keys", async () => {
    const error = await failure({ defaults: { retrys: 3 } });

    assert.equal(error.field, "defaults.retrys");
    assert.match(error.message, /Did you mean retries\?/);
    assert.match(error.message, /Known options of defaults: queue, priority, timeout, retries/);
  });

  test("an unknown key far from any known one gets no guess", async () => {
    const error = await failure({ colour: "blue" });
    assert.ok(!error.message.includes("Did you mean"), error.message);
  });

  test("a value of the wrong kind for worker", async () => {
    const error = await failure({ worker: "yes" });
    assert.equal(
      error.message,
      'worker: "yes" (from the options object) is not allowed; use false for a producer only, or an object of worker options',
    );
  });

  test("an unknown backoff type and a missing backoff delay", async () => {
    const unknown = await failure({ defaults: { backoff: { type: "linear" } } });
    assert.equal(unknown.field, "defaults.backoff.type");
    assert.match(unknown.message, /"linear" .* use "exponential" or "fixed"/);

    const missing = await failure({ defaults: { backoff: { type: "fixed" } } });
    assert.equal(missing.field, "defaults.backoff.delay");
    assert.match(
      missing.message,
      /^defaults\.backoff\.delay is missing \(in the options object\); use a duration/,
    );
  });

  test("an empty queue name in a list", async () => {
    const error = await failure({ worker: { queues: ["a", ""] } });
    assert.equal(error.field, "worker.queues[1]");
    assert.match(error.message, /use a non-empty string/);
  });

  test("repeated worker types and unknown ones", async () => {
    assert.match(
      (await failure({ worker: { types: ["async", "async"] } })).message,
      /without repeats/,
    );
    const unknown = await failure({ defaultWorker: "fiber" });
    assert.match(unknown.message, /"fiber" .* use "async", "thread", "process" or "gevent"/);
  });

  test("a bad log level from a variable", async () => {
    const error = await failure({}, { OMNIQ_LOG_LEVEL: "verbose" });
    assert.match(
      error.message,
      /^logLevel: "verbose" \(from OMNIQ_LOG_LEVEL\) .* "silent", "error"/,
    );
  });

  test("a logger without the methods", async () => {
    const error = await failure({ logger: { log() {} } });
    assert.equal(error.field, "logger");
    assert.match(error.message, /debug, info, warn and error methods/);
  });

  test("input that is not an object", async () => {
    const error = await failure("sqlite://x.db");
    assert.match(error.message, /^options: "sqlite:\/\/x\.db" .* use an object of options/);
  });

  test("a heartbeat not shorter than the lease, naming where each came from", async () => {
    const error = await failure({ heartbeat: "40s" });
    assert.equal(error.field, "heartbeat");
    assert.match(
      error.message,
      /^heartbeat: "40s" \(from the options object\) .* shorter than lease \(30000 ms\)/,
    );
  });

  test("a backoff max below its base", async () => {
    const inverted = await failure({
      defaults: { backoff: { type: "exponential", base: "1m", max: "1s" } },
    });
    assert.equal(inverted.field, "defaults.backoff.max");
    assert.match(inverted.message, /no shorter than defaults\.backoff\.base \(60000 ms\)/);
  });
});

describe("ConfigError messages for config files", () => {
  test("a missing file names the path and who named it", async () => {
    const path = join(dir, "absent.yaml");
    const error = await failure({}, { OMNIQ_CONFIG: path });

    assert.equal(error.field, "configFile");
    assert.equal(
      error.message,
      `configFile: ${JSON.stringify(path)} (from OMNIQ_CONFIG) cannot be read: no such file (ENOENT)`,
    );
  });

  test("a file that is neither YAML nor JSON", async () => {
    const error = await failure({ configFile: file("omniq.toml", "lease = 1") });
    assert.match(
      error.message,
      /\(from the options object\) is not allowed; use a path ending in \.yaml, \.yml or \.json/,
    );
  });

  test("broken YAML names the path and the line", async () => {
    const path = file("broken.yaml", "storage: memory://\nworker:\n  queues: [a, b\n");
    const error = await failure({ configFile: path });

    assert.match(error.message, new RegExp(`^config file ${path}, line 4 is not valid YAML: `));
    assert.match(error.message, /Flow sequence/);
  });

  test("duplicate YAML keys are refused", async () => {
    const path = file("twice.yaml", "lease: 1s\nlease: 2s\n");
    assert.match(
      (await failure({ configFile: path })).message,
      /line 2 is not valid YAML: Map keys must be unique/,
    );
  });

  test("broken JSON names the path and the line", async () => {
    const path = file("broken.json", '{\n  "storage": "memory://",\n  "lease": }\n');
    const error = await failure({ configFile: path });
    assert.match(error.message, new RegExp(`^config file ${path}, line 3 is not valid JSON: `));
  });

  test("a file that holds a list, not options", async () => {
    const path = file("list.yaml", "- a\n- b\n");
    assert.match((await failure({ configFile: path })).message, /must hold an object of options/);
  });

  test("a bad value in a YAML file names the file and the value's line", async () => {
    const path = file("bad-value.yaml", "storage: memory://\nworker:\n  concurrency: 0\n");
    const error = await failure({ configFile: path });
    assert.equal(
      error.message,
      `worker.concurrency: 0 (from config file ${path}, line 3) is not allowed; use a whole number from 1 to 100000`,
    );
  });

  test("a bad value in a JSON file names the line too", async () => {
    const path = file("bad-value.json", '{\n  "defaults": {\n    "retries": -1\n  }\n}\n');
    const error = await failure({ configFile: path });
    assert.match(
      error.message,
      new RegExp(`^defaults\\.retries: -1 \\(from config file ${path}, line 3\\)`),
    );
  });

  test("an unknown key in a file", async () => {
    const path = file("typo.yaml", "storage: memory://\nleese: 30s\n");
    const error = await failure({ configFile: path });
    assert.match(
      error.message,
      new RegExp(`^leese \\(from config file ${path}, line 2\\) is not a known option`),
    );
    assert.match(error.message, /Did you mean lease\?/);
  });

  test("a logger or another config file cannot come from a file", async () => {
    const withLogger = file("logger.yaml", "logger: pino\n");
    assert.match(
      (await failure({ configFile: withLogger })).message,
      /^logger \(from config file .*\) cannot be set in a config file/,
    );

    const nested = file("nested.json", JSON.stringify({ configFile: "other.yaml" }));
    assert.equal((await failure({ configFile: nested })).field, "configFile");
  });

  test("a value in the object that conflicts with the file names its own source", async () => {
    const path = file("lease.yaml", "lease: 1m\n");
    const error = await failure({ configFile: path, heartbeat: "2m" });
    assert.match(
      error.message,
      /^heartbeat: "2m" \(from the options object\) .* shorter than lease \(60000 ms\)/,
    );
  });
});
