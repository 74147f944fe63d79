// The README documents every OMNIQ_* variable omniq reads, and nothing else.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ENV_VARIABLES } from "../../src/index.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const TEST_ONLY = [
  "OMNIQ_REQUIRE_SERVICES",
  "OMNIQ_TEST_REDIS_URL",
  "OMNIQ_TEST_POSTGRES_URL",
  "OMNIQ_TEST_NATS_URL",
];
/** Settings of the shared peer benchmark (../shared/bench), which the README's Performance section runs. */
const SHARED_BENCH = ["OMNIQ_ADAPTER", "OMNIQ_BACKENDS"];

test("every OMNIQ_* variable has a row in the README's table", () => {
  for (const variable of ENV_VARIABLES) {
    assert.ok(readme.includes(`| \`${variable.name}\` | \`${variable.field}\` |`), variable.name);
  }
});

test("the README names no OMNIQ_* variable that omniq does not read", () => {
  const named = new Set(readme.match(/OMNIQ_[A-Z_]+/g) ?? []);
  const known = new Set([...ENV_VARIABLES.map((v) => v.name), ...TEST_ONLY, ...SHARED_BENCH]);
  assert.deepEqual(
    [...named].filter((name) => !known.has(name)),
    [],
  );
});
