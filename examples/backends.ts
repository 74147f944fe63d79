// The same code on any backend: the storage is a URL. Try
//   OMNIQ_STORAGE=redis://127.0.0.1:6379 npx tsx examples/backends.ts
//   OMNIQ_STORAGE=postgres://postgres@127.0.0.1:5432/test npx tsx examples/backends.ts
//   OMNIQ_STORAGE=nats://127.0.0.1:4222 npx tsx examples/backends.ts
//   OMNIQ_STORAGE=file://./.omniq/files npx tsx examples/backends.ts
import { OmniQ } from "omniq";
import { multiply } from "./tasks.js";

await using omniq = await OmniQ.open();
const ids = await omniq.enqueueMany([1, 2, 3].map((n) => multiply.call(n, n)));
const squares = await Promise.all(ids.map((id) => omniq.getResult(id, { timeout: "10s" })));
console.log(`${omniq.config.storage.split(":")[0]}: ${squares.join(", ")}`);
