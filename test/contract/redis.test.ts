import type { Clock, Storage } from "../../src/storage/contract.js";
import { openRedisStorage } from "../../src/storage/redis/index.js";
import { deleteKeys, testPrefix } from "../helpers/redis-keys.js";
import { REDIS, REDIS_URL, skipUnless } from "../helpers/services.js";
import { runContractSuite } from "./suite.js";

runContractSuite("redis", {
  skip: () => skipUnless(REDIS),
  signalsAcrossHandles: true,
  async create(clock: Clock) {
    const prefix = testPrefix("contract");
    const handles: Storage[] = [];
    const open = async () => {
      const storage = await openRedisStorage(REDIS_URL, { clock, prefix });
      handles.push(storage);
      return storage;
    };
    return {
      storage: await open(),
      another: open,
      async cleanup() {
        await Promise.all(handles.map((h) => h.close()));
        await deleteKeys(REDIS_URL, prefix);
      },
    };
  },
});
