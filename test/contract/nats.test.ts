// The storage contract against the NATS JetStream backend: every test gets
// streams and buckets of its own prefix, deleted afterwards; `another()`
// opens a second connection onto the same prefix, as a second process would.
import { randomBytes } from "node:crypto";
import type { Storage } from "../../src/storage/contract.js";
import { destroyNatsStorage, openNatsStorage } from "../../src/storage/nats/index.js";
import { NATS, NATS_URL, skipUnless } from "../helpers/services.js";
import type { BackendFixture } from "./fixture.js";
import { runContractSuite } from "./suite.js";

const fixture: BackendFixture = {
  skip: () => skipUnless(NATS),
  signalsAcrossHandles: true,
  async create(clock) {
    const prefix = `contract-${randomBytes(4).toString("hex")}`;
    const handles: Storage[] = [];
    const open = async () => {
      const storage = await openNatsStorage(NATS_URL, { clock, prefix });
      handles.push(storage);
      return storage;
    };

    return {
      storage: await open(),
      another: open,
      async cleanup() {
        for (const handle of handles) await handle.close();
        await destroyNatsStorage(NATS_URL, { prefix });
      },
    };
  },
};

runContractSuite("nats", fixture);
