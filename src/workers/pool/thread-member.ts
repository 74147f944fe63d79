import { Worker } from "node:worker_threads";
import { runtimeEntry } from "../runtime/entry.js";
import type { FromRuntime } from "../runtime/protocol.js";
import type { SpawnMember } from "./member.js";

// Evaluated as the thread's first code. It imports the runtime's entry and,
// when that fails for a `.ts` extension (omniq running from its sources on
// Node 20, which does not hand `--import tsx` to threads), registers tsx
// and imports it again under a fresh URL, as the failed one stays cached.
const BOOTSTRAP = `
const { workerData } = require("node:worker_threads");
import(workerData.entry).catch(async (error) => {
  if (error?.code !== "ERR_UNKNOWN_FILE_EXTENSION" || !workerData.tsxApi) throw error;
  (await import(workerData.tsxApi)).register();
  await import(workerData.entry + "?tsx");
});
`;

/** Starts pool threads, each with its own heap limit when one is given. */
export function threadSpawner(options: {
  memoryLimitMb: number | null;
  tsxApi: string | null;
}): SpawnMember {
  const entry = runtimeEntry("thread-main").href;
  const resourceLimits =
    options.memoryLimitMb === null ? undefined : { maxOldGenerationSizeMb: options.memoryLimitMb };

  return (events) => {
    const thread = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: { entry, tsxApi: options.tsxApi },
      ...(resourceLimits ? { resourceLimits } : {}),
    });
    let uncaught: Error | null = null;

    thread.on("message", (message: FromRuntime) => events.message(message));
    thread.on("error", (error) => {
      uncaught = error;
    });
    thread.once("exit", (code) => {
      const error = uncaught as (Error & { code?: string }) | null;
      const outOfMemory = error?.code === "ERR_WORKER_OUT_OF_MEMORY";
      events.exit({ code, signal: null, error: outOfMemory ? null : error, outOfMemory });
    });

    return {
      label: `thread ${thread.threadId}`,
      send: (message) => thread.postMessage(message),
      retire: () => void thread.terminate(),
      kill: () => void thread.terminate(),
    };
  };
}
