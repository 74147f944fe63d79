import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { ConfigError, OmniQ } from "../../src/index.js";
import { multiply, sleep } from "../fixtures/tasks.js";
import { freshUrl, waitForState } from "../helpers/omniq.js";
import { tempDir } from "../helpers/temp.js";

describe("OmniQ configuration", () => {
  test("open() with no arguments uses SQLite in ./.omniq/omniq.db and runs a worker", async () => {
    const dir = tempDir();
    const before = process.cwd();
    process.chdir(dir.path);
    try {
      await using omniq = await OmniQ.open();
      assert.equal(
        await omniq.getResult(await omniq.enqueue(multiply, 5, 6), { timeout: "5s" }),
        30,
      );
      assert.ok(existsSync(join(dir.path, ".omniq", "omniq.db")));
    } finally {
      process.chdir(before);
      dir.remove();
    }
  });

  test("OMNIQ_LEASE sets the lease a worker claims under", async () => {
    const store = freshUrl("sqlite");
    process.env.OMNIQ_LEASE = "7s";
    try {
      await using omniq = await OmniQ.open({ storage: store.url, pollInterval: 20 });
      const id = await omniq.enqueue(sleep, 300);
      await waitForState(omniq, id, "running");
      const task = await omniq.getTask(id);
      assert.equal((task.leaseExpiresAt ?? 0) - (task.startedAt ?? 0), 7_000);
      assert.equal(await omniq.getResult(id, { timeout: "5s" }), "slept");
    } finally {
      delete process.env.OMNIQ_LEASE;
      store.remove();
    }
  });

  test("a bad value is refused at open with the field, the value and what is allowed", async () => {
    const error = await OmniQ.open({ storage: "memory://", lease: "forever" }).catch((e) => e);
    assert.ok(error instanceof ConfigError);
    assert.equal(error.field, "lease");
    assert.match(error.message, /lease: "forever"/);
    assert.match(error.message, /use a duration/);
  });

  test("an injected pino logger receives scoped lines; without one nothing is written", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
        done();
      },
    });
    const logger = pino({ level: "debug" }, sink);
    const store = freshUrl("memory");
    const omniq = await OmniQ.open({ storage: store.url, logger });
    await omniq.close();
    const started = lines.find((line) => line.msg === "worker started");
    assert.ok(started, JSON.stringify(lines));
    assert.match(String(started.worker), /^async-/);

    const quiet = spawnSync(
      process.execPath,
      ["--import", "tsx", fileURLToPath(new URL("../fixtures/quiet-run.ts", import.meta.url))],
      { encoding: "utf8", timeout: 30_000 },
    );
    assert.equal(quiet.status, 0);
    assert.equal(quiet.stdout + quiet.stderr, "", "library code wrote to the console");
  });
});
