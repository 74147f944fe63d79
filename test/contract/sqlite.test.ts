// The storage contract against the SQLite backend: a fresh database file in
// a temporary folder for every test; `another()` opens a second handle on the
// same file, as a second process would.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Storage } from "../../src/storage/contract.js";
import { openSqliteStorage } from "../../src/storage/sqlite/index.js";
import type { BackendFixture } from "./fixture.js";
import { runContractSuite } from "./suite.js";

const fixture: BackendFixture = {
  // Handles on one file share a process-wide signal channel.
  signalsAcrossHandles: true,
  settlesAndClaims: true,
  async create(clock) {
    const dir = await mkdtemp(join(tmpdir(), "omniq-sqlite-contract-"));
    const url = `sqlite://${join(dir, "omniq.db")}`;
    const handles: Storage[] = [];

    const open = async () => {
      const storage = await openSqliteStorage(url, { clock });
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

runContractSuite("sqlite", fixture);
