// CPU-bound tasks in a pool of worker threads, next to async tasks on the
// event loop, in one OmniQ: each task's `worker` option routes it.
import { OmniQ } from "omniq";
import { countPrimes, multiply } from "./tasks.js";

await using omniq = await OmniQ.open({
  storage: "sqlite://./.omniq/threads.db",
  worker: { types: ["async", "thread"] },
});

const primes = await Promise.all(
  [100_000, 200_000].map(async (limit) => omniq.getResult(await omniq.enqueue(countPrimes, limit))),
);
const product = await omniq.getResult(await omniq.enqueue(multiply, 6, 7));
console.log(`primes below 100k and 200k: ${primes.join(", ")}; 6 × 7 = ${product}`);
