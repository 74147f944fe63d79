import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ENV_VARIABLES, readEnv } from "../../src/config/env.js";
import { inputSchema } from "../../src/config/schema.js";

describe("ENV_VARIABLES", () => {
  test("every variable is named OMNIQ_*, once, with a description", () => {
    const names = ENV_VARIABLES.map((variable) => variable.name);

    assert.equal(new Set(names).size, names.length);
    for (const variable of ENV_VARIABLES) {
      assert.match(variable.name, /^OMNIQ_[A-Z_]+$/);
      assert.ok(variable.description.length > 10, variable.name);
      assert.ok(!variable.description.includes("\n"), variable.name);
    }
  });

  test("every variable sets a field the schema knows", () => {
    for (const variable of ENV_VARIABLES) {
      const [top, nested] = variable.field.split(".");
      assert.ok(top && top in inputSchema.shape, `${variable.name} sets unknown ${variable.field}`);
      if (nested) assert.equal(top, "worker", variable.name);
    }
  });

  test("the variables the design promises are there", () => {
    const names = new Set(ENV_VARIABLES.map((variable) => variable.name));
    for (const name of [
      "OMNIQ_STORAGE",
      "OMNIQ_RESULTS",
      "OMNIQ_EVENTS",
      "OMNIQ_DEFAULT_WORKER",
      "OMNIQ_LEASE",
      "OMNIQ_LOG_LEVEL",
    ]) {
      assert.ok(names.has(name), name);
    }
  });
});

describe("readEnv", () => {
  test("shapes variables like the options object and remembers which set what", () => {
    const { input, variables } = readEnv({
      OMNIQ_CONCURRENCY: "7",
      OMNIQ_QUEUES: "a,b",
      OMNIQ_RECORD_EVENTS: "false",
      OMNIQ_LEASE: "10s",
      PATH: "/usr/bin",
    });

    assert.deepEqual(input, {
      worker: { concurrency: 7, queues: ["a", "b"] },
      recordEvents: false,
      lease: "10s",
    });
    assert.equal(variables.get("worker.concurrency"), "OMNIQ_CONCURRENCY");
    assert.equal(variables.get("lease"), "OMNIQ_LEASE");
  });

  test("text that does not parse stays text, for the error message", () => {
    const { input } = readEnv({ OMNIQ_CONCURRENCY: "1e3", OMNIQ_RECORD_EVENTS: "yes please" });
    assert.deepEqual(input, { worker: { concurrency: "1e3" }, recordEvents: "yes please" });
  });
});
