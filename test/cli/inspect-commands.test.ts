// The inspection commands, run as a user runs them, on a SQLite file that
// a producer in this process fills.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { OmniQ } from "../../src/index.js";
import { echo } from "../fixtures/tasks.js";
import { runToEnd } from "../helpers/cli.js";
import { tempSqliteUrl } from "../helpers/temp.js";

describe("omniq inspection commands", () => {
  const store = tempSqliteUrl();
  const run = (...args: string[]) => runToEnd([...args, "--storage", store.url]);
  let producer: OmniQ;
  let waiting: string;
  let cancelled: string[];

  before(async () => {
    producer = await OmniQ.open({ storage: store.url, worker: false });
    waiting = await producer.enqueue(echo.with({ queue: "mail" }), { to: "ada" });
    cancelled = await producer.enqueueMany(
      Array.from({ length: 3 }, (_, i) => echo.with({ queue: "reports" }).call(i)),
    );
    for (const id of cancelled) await producer.cancel(id, "not needed");
    await producer.schedule(
      echo,
      { id: "nightly", cron: "0 0 3 * * *", timezone: "Europe/Paris" },
      "n",
    );
  });

  after(async () => {
    await producer.close();
    store.remove();
  });

  test("status counts tasks per queue and state", async () => {
    const { code, stdout } = await run("status");

    assert.equal(code, 0);
    const rows = stdout
      .trim()
      .split("\n")
      .map((line) => line.split(/\s+/));
    assert.deepEqual(rows[0], ["queue", "pending", "cancelled", "controls"]);
    assert.deepEqual(rows.slice(1), [
      ["mail", "1", "0", "-"],
      ["reports", "0", "3", "-"],
    ]);
  });

  test("tasks lists with filters, and --json prints records", async () => {
    const table = await run("tasks", "--state", "cancelled");
    assert.equal(table.code, 0);
    for (const id of cancelled) assert.match(table.stdout, new RegExp(id));
    assert.doesNotMatch(table.stdout, new RegExp(waiting));

    const json = await run("tasks", "--queue", "mail", "--json");
    const listed = JSON.parse(json.stdout) as { id: string; state: string }[];
    assert.deepEqual(
      listed.map((task) => [task.id, task.state]),
      [[waiting, "pending"]],
    );
  });

  test("show prints a task's fields, arguments and events", async () => {
    const { code, stdout } = await run("show", cancelled[0] as string);

    assert.equal(code, 0);
    assert.match(stdout, /state\s+cancelled/);
    assert.match(stdout, /arguments\s+\[0\]/);
    assert.match(stdout, /last error\s+TaskCancelledError: not needed/);
    assert.match(stdout, /enqueued\n.*cancelled: not needed/);
  });

  test("show, retry and cancel of an unknown id fail in one line", async () => {
    const shown = await run("show", "no-such-task");
    assert.equal(shown.code, 1);
    assert.match(shown.stderr, /^omniq: UnknownTaskError: no task with id no-such-task/);
    assert.equal(shown.stderr.trim().split("\n").length, 1);

    const retried = await run("retry", "no-such-task");
    assert.equal(retried.code, 1);
    assert.match(retried.stderr, /not requeued: no task has this id/);
  });

  test("retry puts a cancelled task back; cancel cancels a waiting one", async () => {
    const retried = await run("retry", cancelled[1] as string);
    assert.equal(retried.code, 0, retried.stderr);
    assert.equal((await producer.getTask(cancelled[1] as string)).state, "pending");

    const again = await run("retry", waiting);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /has not finished/);

    const stopped = await run("cancel", cancelled[1] as string, "--reason", "twice");
    assert.equal(stopped.code, 0);
    assert.match(stopped.stdout, /cancelled/);
    assert.equal((await producer.getTask(cancelled[1] as string)).lastError?.message, "twice");
  });

  test("schedules lists each schedule with its trigger", async () => {
    const { code, stdout } = await run("schedules");

    assert.equal(code, 0);
    assert.match(
      stdout,
      /nightly\s+test\.echo\s+default\s+cron 0 0 3 \* \* \* \(Europe\/Paris\)\s+active/,
    );
  });

  test("pause and resume show in status", async () => {
    assert.equal((await run("pause", "mail")).code, 0);
    assert.match((await run("status")).stdout, /mail\s+1\s+0\s+paused/);
    assert.equal((await run("resume", "mail")).code, 0);
    assert.deepEqual(await producer.queueControls(), {});
  });

  test("purge refuses a state that is not final, then deletes what it is asked", async () => {
    const refused = await run("purge", "--states", "pending");
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /pending are not final/);
    assert.equal((await producer.getTask(waiting)).state, "pending");

    const purged = await run("purge", "--states", "cancelled", "--queue", "reports");
    assert.equal(purged.code, 0, purged.stderr);
    assert.equal(purged.stdout.trim(), "deleted 3 tasks");
    assert.deepEqual(
      (await producer.listTasks()).map((task) => task.id),
      [waiting],
    );
  });
});

describe("omniq purge on a terminal", () => {
  test("shows a progress bar while it deletes", async () => {
    const store = tempSqliteUrl();
    const producer = await OmniQ.open({ storage: store.url, worker: false });
    try {
      const ids = await producer.enqueueMany(
        Array.from({ length: 2_500 }, (_, i) => echo.with({ delay: "1h" }).call(i)),
      );
      for (const id of ids) await producer.cancel(id);

      // `script` runs the command on a pseudo-terminal, as a user's shell would.
      const command = `${process.execPath} --import tsx src/cli/main.ts purge --storage ${store.url}`;
      const { code, stdout } = await runToEnd.onTerminal(command);

      assert.equal(code, 0, stdout);
      assert.match(stdout, /progress \[=+\] 100% \| ETA: 0s \| 2500\/2500/);
      assert.match(stdout, /deleted 2500 tasks/);
      assert.deepEqual(await producer.listTasks(), []);
    } finally {
      await producer.close();
      store.remove();
    }
  });
});
