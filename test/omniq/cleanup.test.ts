// The workers' periodic cleanup: results past their time-to-live go with
// their tasks, and events past theirs are deleted.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ManualClock, OmniQ, UnknownTaskError } from "../../src/index.js";
import { echo } from "../fixtures/tasks.js";
import { EMBEDDED, freshUrl, waitUntil } from "../helpers/omniq.js";

const MINUTE = 60_000;

for (const kind of EMBEDDED) {
  describe(`periodic cleanup on ${kind}`, () => {
    test("results and events past their time-to-live are deleted by the worker", async () => {
      const clock = new ManualClock(Date.UTC(2031, 0, 1));
      const store = freshUrl(kind);
      const omniq = await OmniQ.open(
        { storage: store.url, pollInterval: 10, lease: "2s", eventTtl: "10m" },
        { clock },
      );
      try {
        const short = await omniq.enqueue(echo.with({ resultTtl: "1m" }), "short");
        const long = await omniq.enqueue(echo.with({ resultTtl: "1h" }), "long");
        assert.equal(await omniq.getResult(short, { timeout: "5s" }), "short");
        assert.equal(await omniq.getResult(long, { timeout: "5s" }), "long");

        clock.advance(2 * MINUTE);
        await waitUntil(
          () =>
            omniq.getTask(short).then(
              () => false,
              (e) => e instanceof UnknownTaskError,
            ),
          10_000,
        );
        assert.equal(await omniq.getResult(long), "long", "a result within its time-to-live stays");
        assert.notDeepEqual(await omniq.taskEvents(long), []);

        clock.advance(10 * MINUTE);
        await waitUntil(async () => (await omniq.taskEvents(long)).length === 0, 10_000);
        assert.equal(await omniq.getResult(long), "long", "events go, the result stays");
      } finally {
        await omniq.close();
        store.remove();
      }
    });
  });
}
