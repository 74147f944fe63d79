// The storage contract suite: the behaviour of test/contract/README.md,
// checked against any backend. A backend's test file calls
// `runContractSuite("name", fixture)` once at its top level.
import { describe } from "node:test";
import { cancelTests } from "./cancel.js";
import { claimTests } from "./claim.js";
import { concurrencyTests } from "./concurrency.js";
import { controlTests } from "./controls.js";
import { deadLetterTests } from "./dead-letters.js";
import { dependencyTests } from "./dependencies.js";
import { enqueueTests } from "./enqueue.js";
import type { BackendFixture } from "./fixture.js";
import { makeHarness } from "./harness.js";
import { inspectionTests } from "./inspection.js";
import { keyTests } from "./keys.js";
import { leaseTests } from "./lease.js";
import { maintainTests } from "./maintain.js";
import { scheduleTests } from "./schedules.js";
import { settleTests } from "./settle.js";
import { settleAndClaimTests } from "./settle-and-claim.js";
import { signalTests } from "./signals.js";

/**
 * Registers `storage contract: <backendName>`. The fixture's `skip` is
 * awaited inside the describe block before any test is registered, so a
 * missing server turns every test into a skip carrying its message.
 */
export function runContractSuite(backendName: string, fixture: BackendFixture): void {
  describe(`storage contract: ${backendName}`, async () => {
    const skip = fixture.skip ? await fixture.skip() : false;
    const harness = makeHarness(fixture, skip);

    describe("enqueue", () => enqueueTests(harness));
    describe("claim", () => claimTests(harness));
    describe("heartbeat, fencing and release", () => leaseTests(harness));
    describe("settle", () => settleTests(harness));
    // An optional operation: only backends that have it register these.
    if (fixture.settlesAndClaims) {
      describe("settleAndClaim", () => settleAndClaimTests(harness));
    }
    describe("cancel", () => cancelTests(harness));
    describe("inspection and events", () => inspectionTests(harness));
    describe("maintain", () => maintainTests(harness));
    describe("signals", () => signalTests(harness));
    describe("handles and concurrent claimers", () => concurrencyTests(harness));
    describe("idempotency keys", () => keyTests(harness));
    describe("dependencies and blocked tasks", () => dependencyTests(harness));
    describe("requeue and purge", () => deadLetterTests(harness));
    describe("queue controls", () => controlTests(harness));
    describe("schedules", () => scheduleTests(harness));
  });
}
