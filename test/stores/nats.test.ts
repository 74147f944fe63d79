import { runStoreSuite } from "./suite.js";

runStoreSuite("nats");
