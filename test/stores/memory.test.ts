import { runStoreSuite } from "./suite.js";

runStoreSuite("memory");
