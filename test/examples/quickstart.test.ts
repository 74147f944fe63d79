import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runExample } from "../helpers/examples.js";
import { tempDir } from "../helpers/temp.js";

test("the quick start runs on the embedded default and prints its results", async () => {
  const dir = tempDir();
  try {
    const { status, stdout, stderr } = await runExample("quickstart", dir.path);
    assert.equal(status, 0, stderr);
    assert.match(stdout, /multiply\(5, 6\) = 30/);
    assert.match(stdout, /hello, omniq/);
    assert.ok(existsSync(join(dir.path, ".omniq", "omniq.db")), "SQLite file in ./.omniq");
  } finally {
    dir.remove();
  }
});
