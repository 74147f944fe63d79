// The storage contract against the files backend: a fresh store folder in a
// temporary directory for every test; `another()` opens a second handle on
// the same folder, as a second process would.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Storage } from "../../src/storage/contract.js";
import { openFileStorage } from "../../src/storage/file/index.js";
import type { BackendFixture } from "./fixture.js";
import { runContractSuite } from "./suite.js";

const fixture: BackendFixture = {
  // Handles of one process hear each other directly, other processes through fs.watch.
  signalsAcrossHandles: true,
  async create(clock) {
    const dir = await mkdtemp(join(tmpdir(), "omniq-file-contract-"));
    const url = `file://${join(dir, "store")}`;
    const handles: Storage[] = [];

    const open = async () => {
      const storage = await openFileStorage(url, { clock });
      handles.push(storage);
      return storage;
    };

    return {
      storage: await open(),
      another: open,
      async cleanup() {
        for (const handle of handles) await handle.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

runContractSuite("file", fixture);
