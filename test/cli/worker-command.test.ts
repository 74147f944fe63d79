import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { startupLine } from "../../src/cli/worker-command.js";
import { OmniQ } from "../../src/index.js";
import { openResultStore } from "../../src/storage/open-stores.js";
import { add, ignoreSignal, whereAmI } from "../fixtures/workers/tasks.js";
import { type Cli, cli } from "../helpers/cli.js";
import { tempDir, tempSqliteUrl } from "../helpers/temp.js";
import { isAlive, lines, until } from "../workers/helpers.js";

const TASKS = "test/fixtures/workers/tasks.ts";
const BROKEN = "test/fixtures/workers/broken-tasks.ts";

async function started(run: Cli): Promise<string> {
  await until(
    () => run.stdout().includes("omniq worker: serving") || run.child.exitCode !== null,
    `the startup line (stderr: ${run.stderr()})`,
    30_000,
  );
  const line = run
    .stdout()
    .split("\n")
    .find((l) => l.startsWith("omniq worker: serving"));
  assert.ok(line, `no startup line; stderr: ${run.stderr()}`);
  return line;
}

describe("omniq --help", () => {
  test("the program and the worker command describe themselves and exit 0", async () => {
    const top = cli(["--help"]);
    assert.equal((await top.exited).code, 0);
    assert.match(top.stdout(), /Usage: omniq/);
    assert.match(top.stdout(), /worker \[options\]/);
    assert.match(top.stdout(), /OMNIQ_STORAGE/);

    const worker = cli(["worker", "--help"]);
    assert.equal((await worker.exited).code, 0);
    for (const flag of [
      "--tasks",
      "--storage",
      "--type",
      "--concurrency",
      "--queues",
      "--config",
    ]) {
      assert.ok(worker.stdout().includes(flag), `help lists ${flag}`);
    }
  });
});

describe("omniq worker", () => {
  test("prints what it serves, runs tasks, and stops with exit 0 on SIGTERM", async () => {
    const store = tempSqliteUrl();
    const producer = await OmniQ.open({
      storage: store.url,
      worker: false,
      defaultWorker: "thread",
    });
    const run = cli([
      "worker",
      ...["--tasks", TASKS],
      ...["--storage", store.url],
      ...["--type", "thread"],
      ...["--concurrency", "2"],
      ...["--queues", "high,default,low"],
    ]);
    try {
      const line = await started(run);
      assert.match(line, new RegExp(`serving ${store.url.replace(/[/.]/g, "\\$&")};`));
      assert.match(
        line,
        /queues high,default,low; type thread; concurrency 2; tasks: \d+ found \(.*workers\.add/,
      );

      assert.equal(
        await producer.getResult(await producer.enqueue(add, 20, 22), { timeout: "20s" }),
        42,
      );

      run.child.kill("SIGTERM");
      assert.deepEqual(await run.exited, { code: 0, signal: null });
      assert.match(run.stdout(), /omniq worker: stopped/);
    } finally {
      run.child.kill("SIGKILL");
      await producer.close();
      store.remove();
    }
  });

  test("a second SIGINT hands running tasks back at once; exit 0", async () => {
    const store = tempSqliteUrl();
    const dir = tempDir();
    const file = join(dir.path, "runs.log");
    const producer = await OmniQ.open({
      storage: store.url,
      worker: false,
      defaultWorker: "process",
    });
    const run = cli([
      "worker",
      "--storage",
      store.url,
      "--type",
      "process",
      "--concurrency",
      "1",
      "--stop-timeout",
      "60s",
    ]);
    try {
      await started(run);
      const id = await producer.enqueue(ignoreSignal, 60_000, file);
      await until(() => lines(file).length === 1, "the task to start", 20_000);

      run.child.kill("SIGINT");
      await until(() => run.stdout().includes("SIGINT: stopping"), "the first stop");
      run.child.kill("SIGINT");
      assert.deepEqual(await run.exited, { code: 0, signal: null });

      const task = await producer.getTask(id);
      assert.equal(task.state, "pending", "handed back");
      assert.equal(task.attempts, 0);
    } finally {
      run.child.kill("SIGKILL");
      await producer.close();
      dir.remove();
      store.remove();
    }
  });

  test("OMNIQ_* variables win over flags; a config file fills the rest", async () => {
    const store = tempSqliteUrl();
    const dir = tempDir();
    const config = join(dir.path, "omniq.yaml");
    writeFileSync(config, `storage: ${store.url}\nworker:\n  concurrency: 3\n`);
    const run = cli(["worker", "--config", config, "--queues", "from-flag", "--type", "async"], {
      OMNIQ_QUEUES: "from-env",
    });
    try {
      const line = await started(run);
      assert.match(line, new RegExp(`serving ${store.url.replace(/[/.]/g, "\\$&")};`));
      assert.match(line, /queues from-env; type async; concurrency 3;/);
      assert.match(line, /tasks: none given/);
      run.child.kill("SIGTERM");
      assert.equal((await run.exited).code, 0);
    } finally {
      run.child.kill("SIGKILL");
      dir.remove();
      store.remove();
    }
  });

  test("without --concurrency each worker type takes its own default", async () => {
    const store = tempSqliteUrl();
    const run = cli(["worker", "--storage", store.url, "--type", "async,gevent,thread"]);
    try {
      const line = await started(run);
      assert.match(
        line,
        new RegExp(`concurrency async 10, gevent 1000, thread ${availableParallelism()};`),
      );
      run.child.kill("SIGTERM");
      assert.equal((await run.exited).code, 0);
    } finally {
      run.child.kill("SIGKILL");
      store.remove();
    }
  });

  test("a killed worker takes its child processes with it", async () => {
    const store = tempSqliteUrl();
    const producer = await OmniQ.open({
      storage: store.url,
      worker: false,
      defaultWorker: "process",
    });
    const run = cli(["worker", "--storage", store.url, "--type", "process", "--concurrency", "1"]);
    try {
      await started(run);
      const where = await producer.getResult(await producer.enqueue(whereAmI), { timeout: "20s" });
      assert.ok(isAlive(where.pid));
      run.child.kill("SIGKILL");
      await run.exited;
      await until(() => !isAlive(where.pid), `child process ${where.pid} to end`, 10_000);
    } finally {
      run.child.kill("SIGKILL");
      await producer.close();
      store.remove();
    }
  });
});

describe("omniq worker refuses what it cannot run, with exit code 2", () => {
  for (const [what, args, message] of [
    [
      "a concurrency that is not a number",
      ["--concurrency", "many"],
      /--concurrency <n>.*"many" is not a whole number/,
    ],
    [
      "an unknown worker type",
      ["--type", "fiber"],
      /"fiber" is not a worker type; use async, thread, process, gevent/,
    ],
    ["an unknown flag", ["--colour", "blue"], /unknown option '--colour'/],
    [
      "a storage URL of no known backend",
      ["--storage", "ftp://host/q"],
      /storage: "ftp:\/\/host\/q".*is not allowed/,
    ],
  ] as const) {
    test(what, async () => {
      const run = cli(["worker", ...args]);
      assert.equal((await run.exited).code, 2);
      assert.match(run.stderr(), message);
      assert.doesNotMatch(run.stderr(), /^\s+at /m, "no stack trace");
    });
  }

  for (const type of ["async", "thread", "process"]) {
    test(`a tasks module that fails to load (${type})`, async () => {
      const store = tempSqliteUrl();
      try {
        const run = cli(["worker", "--tasks", BROKEN, "--storage", store.url, "--type", type]);
        assert.equal((await run.exited).code, 2);
        assert.match(
          run.stderr(),
          /omniq: tasks module "test\/fixtures\/workers\/broken-tasks.ts" could not be loaded: this tasks module is broken on purpose/,
        );
        assert.doesNotMatch(run.stderr(), /^\s+at /m, "no stack trace");
        assert.equal(run.stdout(), "", "no startup line");
      } finally {
        store.remove();
      }
    });
  }
});

describe("omniq worker with results and events apart", () => {
  test("OMNIQ_RESULTS and OMNIQ_EVENTS put them on other backends", async () => {
    const [queue, results, events] = [tempSqliteUrl(), tempSqliteUrl(), tempDir()];
    const eventsUrl = `file://${join(events.path, "events")}`;
    const config = { storage: queue.url, results: results.url, events: eventsUrl };
    const producer = await OmniQ.open({ ...config, worker: false });
    const run = cli(["worker", ...["--tasks", TASKS], ...["--storage", queue.url]], {
      OMNIQ_RESULTS: results.url,
      OMNIQ_EVENTS: eventsUrl,
    });
    try {
      const line = await started(run);
      assert.ok(line.includes(`(results on ${results.url}, events on ${eventsUrl});`), line);

      const id = await producer.enqueue(add, 1, 2);
      assert.equal(await producer.getResult(id, { timeout: "20s" }), 3);
      const stored = await openResultStore(results.url);
      try {
        assert.notEqual(await stored.get(id, (await producer.getTask(id)).token), null);
      } finally {
        await stored.close();
      }
      assert.deepEqual(
        (await producer.taskEvents(id)).map((e) => e.type),
        ["enqueued", "executing", "completed"],
      );
    } finally {
      run.child.kill("SIGKILL");
      await run.exited;
      await producer.close();
      for (const place of [queue, results, events]) place.remove();
    }
  });
});

describe("the startup line", () => {
  test("never shows a password", () => {
    const line = startupLine(
      { storage: "redis://worker:s3cret@queue.example:6379/0" },
      { queues: ["default"], types: ["gevent"], tasks: ["./tasks.js"] },
      [{ type: "gevent", concurrency: 1_000, taskNames: () => ["send", "fetch"] }],
    );
    assert.equal(
      line,
      "omniq worker: serving redis://worker:***@queue.example:6379/0; queues default; type gevent; " +
        "concurrency 1000; tasks: 2 found (fetch, send)",
    );
  });

  test("says where results and events go when not with the queue", () => {
    const line = startupLine(
      {
        storage: "redis://q.example:6379",
        results: "postgres://u:pw@db.example/omniq",
        events: "redis://q.example:6379",
        recordEvents: false,
      },
      { queues: ["default"], types: ["async"], tasks: [] },
      [{ type: "async", concurrency: 10, taskNames: () => [] }],
    );
    assert.match(
      line,
      /^omniq worker: serving redis:\/\/q\.example:6379 \(results on postgres:\/\/u:\*\*\*@db\.example\/omniq, no events\); /,
    );
  });
});
