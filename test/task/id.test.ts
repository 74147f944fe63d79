import assert from "node:assert/strict";
import { test } from "node:test";
import { newTaskId } from "../../src/task/id.js";

test("task ids are UUID version 7, unique, and sort by the time they were made", () => {
  const ids = Array.from({ length: 2_000 }, (_, i) => newTaskId(1_700_000_000_000 + i));
  for (const id of ids) {
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  }
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(
    Number.parseInt(ids[0]?.replaceAll("-", "").slice(0, 12) ?? "", 16),
    1_700_000_000_000,
  );
});
