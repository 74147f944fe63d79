// The storage contract suite against the memory backend. Each test gets a
// store of its own name, so that `another()` can open more handles onto it.
import type { Storage } from "../../src/storage/contract.js";
import { openMemoryStorage } from "../../src/storage/memory/index.js";
import { runContractSuite } from "./suite.js";

let stores = 0;

runContractSuite("memory", {
  signalsAcrossHandles: true,
  async create(clock) {
    stores += 1;
    const url = `memory://contract-${stores}`;
    const handles: Storage[] = [await openMemoryStorage(url, { clock })];

    return {
      storage: handles[0] as Storage,
      async another() {
        const handle = await openMemoryStorage(url, { clock });
        handles.push(handle);
        return handle;
      },
      async cleanup() {
        for (const handle of handles) await handle.close();
      },
    };
  },
});
