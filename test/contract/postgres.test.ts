// The storage contract against the PostgreSQL backend: a schema of its own
// for every test on the shared server, dropped afterwards; `another()` opens
// a second pool and listener on the same schema, as a second process would.
import { POSTGRES, skipUnless } from "../helpers/services.js";
import { PostgresTestStore } from "../storage/fixtures/postgres-store.js";
import type { BackendFixture } from "./fixture.js";
import { runContractSuite } from "./suite.js";

const fixture: BackendFixture = {
  skip: () => skipUnless(POSTGRES),
  // LISTEN/NOTIFY reaches every connection listening on the store's channel.
  signalsAcrossHandles: true,
  async create(clock) {
    const store = new PostgresTestStore(clock, "contract");
    return {
      storage: await store.open(),
      another: () => store.open(),
      cleanup: () => store.cleanup(),
    };
  },
};

runContractSuite("postgres", fixture);
