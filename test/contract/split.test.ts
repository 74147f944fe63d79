// The storage contract against SplitStorage: a queue on one backend with its
// results and events on others, so the facade and workers can use it like
// any backend. `another()` opens a second queue handle with its own split
// stores on the same places, as a second process would.
import type { Clock, Storage } from "../../src/storage/contract.js";
import { openStorage } from "../../src/storage/open.js";
import { type Backend, freshPlace, skipUnlessServed } from "../helpers/places.js";
import type { BackendFixture } from "./fixture.js";
import { runContractSuite } from "./suite.js";

/** Queue, results, events: each combination runs the whole suite. */
const COMBINATIONS: [Backend, Backend, Backend][] = [
  ["memory", "sqlite", "file"],
  ["redis", "postgres", "nats"],
  ["sqlite", "redis", "postgres"],
  ["postgres", "nats", "memory"],
];

function fixture([queue, results, events]: [Backend, Backend, Backend]): BackendFixture {
  return {
    async skip() {
      for (const backend of [queue, results, events]) {
        const message = await skipUnlessServed(backend);
        if (message) return message;
      }
      return false;
    },
    signalsAcrossHandles: true,
    async create(clock: Clock) {
      const places = [freshPlace(queue), freshPlace(results), freshPlace(events)] as const;
      const handles: Storage[] = [];
      const open = async () => {
        const storage = await openStorage(places[0].url, {
          clock,
          results: places[1].url,
          events: places[2].url,
        });
        handles.push(storage);
        return storage;
      };
      return {
        storage: await open(),
        another: open,
        async cleanup() {
          for (const handle of handles) await handle.close();
          for (const place of places) await place.cleanup();
        },
      };
    },
  };
}

for (const combination of COMBINATIONS) {
  runContractSuite(`split ${combination.join(" + ")}`, fixture(combination));
}
