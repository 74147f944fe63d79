import { MemoryStore } from "./store.js";

/** Named stores of this process, so that handles opened on one name share it. */
const named = new Map<string, MemoryStore>();

/** The store called `name`, made on first use. */
export function namedStore(name: string): MemoryStore {
  let store = named.get(name);
  if (!store) {
    store = new MemoryStore();
    named.set(name, store);
  }
  return store;
}

/** Forgets the store called `name` once its last handle has closed; its data goes with it. */
export function dropNamedStore(name: string, store: MemoryStore): void {
  // A later open under the same name may already have made a new store.
  if (named.get(name) === store) named.delete(name);
}
