import { runStoreSuite } from "./suite.js";

runStoreSuite("redis");
