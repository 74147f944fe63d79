// Behaviour of the NATS backend beyond the shared contract: its URL, task
// ids that are not valid NATS tokens, the limits of an atomic batch, and
// recovery from a process that died half-way through a change.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { DuplicateTaskError, InvalidArgumentError, StorageError } from "../../src/errors.js";
import type { Storage } from "../../src/storage/contract.js";
import { destroyNatsStorage, openNatsStorage } from "../../src/storage/nats/index.js";
import { taskIdOf, taskKey } from "../../src/storage/nats/names.js";
import { encodeStored, newStoredTask, type StoredTask } from "../../src/storage/nats/records.js";
import { parseNatsUrl } from "../../src/storage/nats/url.js";
import { ManualClock } from "../../src/util/clock.js";
import { claimRequest, newTask, newTasks, START } from "../contract/builders.js";
import { NATS, NATS_URL, skipUnless } from "../helpers/services.js";

const skip = await skipUnless(NATS);
const maintenance = { maxLeaseLosses: 3, eventTtlMs: 86_400_000 };

describe("nats storage: URL", () => {
  test("reads servers, credentials and prefix", () => {
    const settings = parseNatsUrl("nats://alice:s%40cret@h1:4223,h2?prefix=jobs");
    assert.deepEqual(settings.servers, ["h1:4223", "h2:4222"]);
    assert.equal(settings.user, "alice");
    assert.equal(settings.pass, "s@cret");
    assert.equal(settings.prefix, "jobs");
    assert.equal(settings.redacted, "nats://alice:***@h1:4223,h2?prefix=jobs");
  });

  test("takes a user name without a password as a token", () => {
    const settings = parseNatsUrl("nats://t0ken@localhost:4222");
    assert.equal(settings.token, "t0ken");
    assert.equal(settings.user, undefined);
  });

  test("refuses other schemes and unknown parameters without showing the password", () => {
    assert.throws(() => parseNatsUrl("redis://localhost"), InvalidArgumentError);
    assert.throws(
      () => parseNatsUrl("nats://bob:hunter2@localhost?colour=red"),
      (error: Error) =>
        error instanceof InvalidArgumentError &&
        error.message.includes("colour") &&
        !error.message.includes("hunter2"),
    );
  });

  test("keeps any task id apart from every other as a key", () => {
    const ids = ["plain-id_1", "with.dot", "with space", "ünïcode", "i.plain", "x.y", "a/b"];
    const keys = ids.map(taskKey);
    assert.equal(new Set(keys).size, ids.length);
    for (const key of keys) assert.match(key, /^[ix]\.[A-Za-z0-9_-]+$/);
    assert.deepEqual(keys.map(taskIdOf), ids);
  });

  test("an unreachable server fails with a StorageError that names no password", async () => {
    await assert.rejects(
      openNatsStorage("nats://bob:hunter2@127.0.0.1:1", { timeoutMs: 500 }),
      (error: Error) =>
        error instanceof StorageError &&
        error.message.includes("127.0.0.1:1") &&
        !error.message.includes("hunter2"),
    );
  });
});

describe("nats storage: beyond the contract", { skip }, () => {
  let nc: NatsConnection;
  let prefix = "";
  let storage: Storage;
  let clock: ManualClock;

  before(async () => {
    nc = await connect({ servers: NATS_URL.replace("nats://", "") });
  });
  after(async () => {
    await nc?.close();
  });

  const fresh = async () => {
    if (storage) {
      await storage.close();
      await destroyNatsStorage(NATS_URL, { prefix });
    }
    prefix = `extra-${randomBytes(4).toString("hex")}`;
    clock = new ManualClock(START);
    storage = await openNatsStorage(NATS_URL, { clock, prefix });
  };
  after(async () => {
    await storage?.close();
    await destroyNatsStorage(NATS_URL, { prefix });
  });

  /** The raw tasks bucket, to play a process that died half-way. */
  const tasksBucket = () => new Kvm(nc).open(`${prefix}-tasks`);
  const indexBucket = () => new Kvm(nc).open(`${prefix}-index`);

  test("stores and claims tasks whose ids are not NATS tokens", async () => {
    await fresh();
    const ids = ["with.dot", "with space", "ünïcode/slash"];
    await storage.enqueue(ids.map((id) => newTask({ id })));

    assert.deepEqual(
      (await storage.listTasks()).map((t) => t.id),
      ids,
    );
    const claimed = await storage.claim(claimRequest());
    assert.deepEqual(
      claimed.map((t) => t.id),
      ids,
    );
    assert.deepEqual(
      (await storage.taskEvents("with.dot")).map((e) => e.type),
      ["enqueued", "executing"],
    );
  });

  test("refuses a batch too big for one commit message, storing none of it", async () => {
    await fresh();
    const huge = newTasks(20_000, "big", { queue: "q".repeat(50) });

    await assert.rejects(storage.enqueue(huge), /smaller batches/);
    assert.deepEqual(await storage.countTasks(), {});
  });

  test("hides a record whose enqueue never committed, and reuses its id after a minute", async () => {
    await fresh();
    // What a process that died between creating a record and committing its batch leaves.
    const orphan: StoredTask = newStoredTask(newTask({ id: "orphan" }), START, "never-committed");
    await (await tasksBucket()).create(taskKey("orphan"), encodeStored(orphan));

    assert.equal(await storage.getTask("orphan"), null);
    assert.deepEqual(await storage.listTasks(), []);
    assert.deepEqual(await storage.claim(claimRequest()), []);
    await assert.rejects(storage.enqueue([newTask({ id: "orphan" })]), DuplicateTaskError);

    clock.advance(60_000);
    await storage.enqueue([newTask({ id: "orphan", payload: "[7]" })]);
    assert.equal((await storage.getTask("orphan"))?.payload, "[7]");
  });

  test("maintain repairs an index entry a dead process failed to write", async () => {
    await fresh();
    await storage.enqueue([newTask({ id: "a" })]);

    // The record says running under a lease, but the index still says waiting.
    const kv = await tasksBucket();
    const entry = await kv.get(taskKey("a"));
    assert.ok(entry);
    const stored = entry.json<StoredTask>();
    delete stored.batch;
    stored.order = entry.revision;
    Object.assign(stored.task, {
      state: "running",
      attempts: 1,
      token: 1,
      leaseOwner: "dead",
      leaseExpiresAt: START + 1_000,
      startedAt: START,
    });
    await kv.update(taskKey("a"), encodeStored(stored), entry.revision);

    assert.deepEqual(await storage.claim(claimRequest()), []);
    clock.advance(1_000);
    const reports = [await storage.maintain(maintenance), await storage.maintain(maintenance)];

    assert.equal(reports[0]?.leasesExpired, 0, "the first round only repairs the index");
    assert.equal(reports[1]?.leasesExpired, 1);
    const [again] = await storage.claim(claimRequest());
    assert.equal(again?.id, "a");
    assert.equal(again?.token, 2);
  });

  test("maintain deletes a commit marker once every task of its batch has moved on", async () => {
    await fresh();
    await storage.enqueue(newTasks(3, "m"));
    const raw = await (await tasksBucket()).get(taskKey("m-0"));
    const batch = raw?.json<StoredTask>().batch;
    assert.ok(batch);
    const index = await indexBucket();
    assert.ok(await index.get(`b.${batch}`).then((e) => e?.operation === "PUT"));

    await storage.claim(claimRequest({ limit: 2 }));
    await storage.maintain(maintenance);
    assert.equal((await index.get(`b.${batch}`))?.operation, "PUT", "m-2 still waits");

    await storage.cancel("m-2", "not needed");
    await storage.maintain(maintenance);
    assert.equal((await index.get(`b.${batch}`))?.operation, "DEL");
    assert.equal((await storage.getTask("m-2"))?.state, "cancelled");
    assert.equal((await storage.getTask("m-0"))?.state, "running");
  });

  test("a claim catches up even when the index's newest message was purged", async () => {
    await fresh();
    await storage.enqueue([newTask({ id: "a" }), newTask({ id: "b" })]);
    const [held] = await storage.claim(claimRequest({ limit: 1 }));
    assert.ok(held);
    await storage.settle([{ id: "a", token: held.token, outcome: "completed", result: "1" }]);

    // Housekeeping purges old delete markers; here the newest message of the index is one.
    const jsm = await jetstreamManager(nc);
    const stream = `KV_${prefix}-index`;
    const before = (await jsm.streams.info(stream)).state.last_seq;
    await jsm.streams.purge(stream, { filter: `$KV.${prefix}-index.t.${taskKey("a")}` });
    assert.equal((await jsm.streams.getMessage(stream, { seq: before })) === null, true);

    const other = await openNatsStorage(NATS_URL, { clock, prefix });
    try {
      const claimed = await other.claim(claimRequest());
      assert.deepEqual(
        claimed.map((t) => t.id),
        ["b"],
      );
    } finally {
      await other.close();
    }
  });

  test("a closed handle refuses work with a StorageError", async () => {
    await fresh();
    const other = await openNatsStorage(NATS_URL, { clock, prefix });
    await other.close();

    await assert.rejects(other.getTask("a"), StorageError);
    await assert.rejects(other.enqueue([newTask()]), StorageError);
  });
});
