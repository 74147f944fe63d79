// How the contract suite gets a backend to test. Each backend's test file
// (test/contract/<backend>.test.ts) passes one of these to runContractSuite:
//
//   runContractSuite("sqlite", { create: async (clock) => ({ storage, another, cleanup }) });
//
// `skip` is awaited inside the suite's own (async) describe block, before any
// test is registered, so a backend file needs no top-level await: when it
// resolves to a message every contract test is registered as skipped with it.
import type { Clock, Storage } from "../../src/storage/contract.js";

/** A fresh, empty store opened for one test. */
export interface StoreUnderTest {
  storage: Storage;
  /** Opens another handle onto the same store, as a second process would. */
  another(): Promise<Storage>;
  /** Closes every handle and removes what the test stored (file, schema, keys, streams). */
  cleanup(): Promise<void>;
}

export interface BackendFixture {
  /** Resolves to a skip message when the backend's server is absent (see test/helpers/services.ts). */
  skip?: () => Promise<string | false>;
  /** Opens a fresh store whose clock is `clock`. */
  create(clock: Clock): Promise<StoreUnderTest>;
  /**
   * Set when `subscribe` also delivers signals for changes made through other
   * handles (other processes), so the suite checks that too. Backends that
   * signal only their own handle's changes leave it unset.
   */
  signalsAcrossHandles?: boolean;
  /** Set when the backend implements the optional `settleAndClaim`, so the suite checks it. */
  settlesAndClaims?: boolean;
}
