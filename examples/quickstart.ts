// The quick start: open omniq on its embedded default (SQLite in
// ./.omniq/omniq.db, with an in-process worker), enqueue a task, wait for
// its result. Run it with `npm run quickstart`.
import { OmniQ } from "omniq";
import { greet, multiply } from "./tasks.js";

await using omniq = await OmniQ.open();

const id = await omniq.enqueue(multiply, 5, 6);
const product = await omniq.getResult(id, { timeout: "5s" });
console.log(`multiply(5, 6) = ${product}`);

const greeting = await omniq.getResult(await omniq.enqueue(greet, "omniq"), { timeout: "5s" });
console.log(greeting);
