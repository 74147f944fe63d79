import { runStoreSuite } from "./suite.js";

runStoreSuite("sqlite");
