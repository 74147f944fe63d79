import { runStoreSuite } from "./suite.js";

runStoreSuite("postgres");
