import { runStoreSuite } from "./suite.js";

runStoreSuite("file");
