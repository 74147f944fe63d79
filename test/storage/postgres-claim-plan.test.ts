// How PostgreSQL runs a claim over a deep backlog: it reads only the index
// entries of the tasks it takes, leaves later queues unread when the first
// has enough, and updates the picked rows by address. These are the reasons
// a claim costs the same at a depth of a thousand or a million tasks; the
// test checks them in the plan rather than timing anything, also on a table
// that was never analyzed.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import pg from "pg";
import { clientConfig } from "../../src/storage/postgres/db.js";
import { sqlNames } from "../../src/storage/postgres/names.js";
import { claimSql } from "../../src/storage/postgres/sql/claim.js";
import { parsePostgresUrl } from "../../src/storage/postgres/url.js";
import { POSTGRES, POSTGRES_URL, skipUnless } from "../helpers/services.js";
import { PostgresTestStore } from "./fixtures/postgres-store.js";

const skip = await skipUnless(POSTGRES);
const stores: PostgresTestStore[] = [];

after(async () => {
  for (const store of stores) await store.cleanup();
});

interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Actual Rows": number;
  "Actual Loops": number;
  "Subplan Name"?: string;
  Plans?: PlanNode[];
}

function* walk(node: PlanNode): Generator<PlanNode> {
  yield node;
  for (const child of node.Plans ?? []) yield* walk(child);
}

/** The plan nodes under the CTE called `name`. */
function cte(root: PlanNode, name: string): PlanNode[] {
  const top = [...walk(root)].find((node) => node["Subplan Name"] === `CTE ${name}`);
  assert.ok(top, `no CTE ${name} in the plan`);
  return [...walk(top)];
}

describe("postgres: claim plan over a deep backlog", { skip }, () => {
  test("reads only what it takes, from the first queue, and updates by address", {
    timeout: 120_000,
  }, async () => {
    const store = new PostgresTestStore(undefined, "plan");
    stores.push(store);
    await store.open();
    const n = sqlNames(store.schema);
    const client = new pg.Client(POSTGRES_URL);
    await client.connect();

    try {
      for (const [queue, count] of [
        ["deep", 50_000],
        ["next", 1_000],
      ] as const) {
        await client.query(
          `INSERT INTO ${n.tasks} (id, name, queue, priority, payload, run_at, created_at,
             max_attempts, result_ttl_ms, worker, state)
           SELECT $1 || g, 'plan.noop', $1, g % 3, '[]', 0, 0, 1, 60000, 'async', 'pending'
           FROM generate_series(1, ${count}) g`,
          [queue],
        );
      }
      await client.query(`ANALYZE ${n.tasks}`);

      await client.query("BEGIN");
      const queues = ["deep", "next"];
      const explained = await client.query(
        `EXPLAIN (ANALYZE, FORMAT JSON) ${claimSql(n, queues.length)}`,
        [1_000, ["async"], 20, "planner", 31_000, queues, ...queues],
      );
      await client.query("ROLLBACK");
      const root = (explained.rows[0]["QUERY PLAN"] as [{ Plan: PlanNode }])[0].Plan;

      const first = cte(root, "due_0");
      const scan = first.find((node) => node["Index Name"] === "tasks_ready");
      assert.ok(scan, "the first queue is read through tasks_ready");
      assert.equal(scan["Actual Rows"], 20, "only the entries of the tasks taken are read");
      assert.equal(
        first.some((node) => node["Node Type"] === "Sort"),
        false,
      );

      const second = cte(root, "due_1");
      assert.ok(
        second.every((node) => node["Actual Loops"] === 0),
        "the second queue is never read while the first has enough",
      );

      const update = cte(root, "claimed");
      assert.ok(update.some((node) => node["Node Type"] === "Tid Scan"));
      assert.equal(
        update.some((node) => node["Node Type"] === "Seq Scan"),
        false,
      );
    } finally {
      await client.end();
    }
  });

  test("reads only what it takes before the table was ever analyzed", {
    timeout: 120_000,
  }, async () => {
    const store = new PostgresTestStore(undefined, "plan");
    stores.push(store);
    await store.open();
    const n = sqlNames(store.schema);
    // The store's own session settings, as its pool connects.
    const client = new pg.Client(
      clientConfig(parsePostgresUrl(POSTGRES_URL), {
        maxConnections: 1,
        connectTimeoutMs: 10_000,
        queryTimeoutMs: 60_000,
      }),
    );
    await client.connect();

    try {
      // No ANALYZE: the planner knows only that the table was empty when made.
      // At a million rows its estimates make a bitmap scan and a sort look
      // cheaper than the index walk (a few thousand rows do not show it).
      await client.query(
        `INSERT INTO ${n.tasks} (id, name, queue, priority, payload, run_at, created_at,
           max_attempts, result_ttl_ms, worker, state)
         SELECT 'd' || g, 'plan.noop', 'deep', 0, '[]', g, 0, 1, 60000, 'async', 'pending'
         FROM generate_series(1, 1000000) g`,
      );

      await client.query("BEGIN");
      const explained = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${claimSql(n, 1)}`, [
        300_000,
        ["async"],
        20,
        "planner",
        331_000,
        ["deep"],
        "deep",
      ]);
      await client.query("ROLLBACK");
      const root = (explained.rows[0]["QUERY PLAN"] as [{ Plan: PlanNode }])[0].Plan;

      const pick = cte(root, "due_0");
      const scan = pick.find((node) => node["Index Name"] === "tasks_ready");
      assert.ok(scan, "the queue is read through tasks_ready");
      assert.equal(scan["Node Type"], "Index Scan", "walked in order, not gathered by a bitmap");
      assert.equal(scan["Actual Rows"], 20, "only the entries of the tasks taken are read");
      assert.equal(
        pick.some((node) => node["Node Type"] === "Sort"),
        false,
      );
    } finally {
      await client.end();
    }
  });
});
