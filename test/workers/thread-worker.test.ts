import { poolSuite } from "./pool-suite.js";

poolSuite("thread");
