import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { runtimeEntry } from "../runtime/entry.js";
import { type FromRuntime, rebuildError } from "../runtime/protocol.js";
import type { SpawnMember } from "./member.js";

/** Bytes of a child's stderr kept to tell how it died. */
const STDERR_TAIL = 4_096;

/** Longest wait, after a child exits, for the end of its stderr. */
const STDERR_WAIT_MS = 200;

// V8's words when a heap limit is reached; the child then aborts.
const OUT_OF_MEMORY = /heap out of memory|Reached heap limit|Allocation failed/;

/**
 * Starts pool child processes: Node with the parent's loader flags (so
 * `--import tsx` carries over) and the heap limit, talking over IPC with
 * structured clone. Their stderr is passed through, its tail kept.
 */
export function childSpawner(options: { memoryLimitMb: number | null }): SpawnMember {
  const entry = fileURLToPath(runtimeEntry("child-main"));
  const execArgv = childExecArgv(process.execArgv, options.memoryLimitMb);

  return (events) => {
    const child = fork(entry, [], {
      execArgv,
      serialization: "advanced",
      stdio: ["inherit", "inherit", "pipe", "ipc"],
    });
    let tail = "";
    // Why it ended: it failed to start, or died of an uncaught error.
    let cause: Error | null = null;
    let reported = false;
    const report = (code: number | null, signal: NodeJS.Signals | null) => {
      if (reported) return;
      reported = true;
      const outOfMemory = OUT_OF_MEMORY.test(tail);
      events.exit({ code, signal, error: outOfMemory ? null : cause, outOfMemory });
    };

    child.stderr?.on("data", (chunk: Buffer) => {
      process.stderr.write(chunk);
      tail = (tail + chunk.toString()).slice(-STDERR_TAIL);
    });
    child.on("message", (message: FromRuntime) => {
      if (message.type === "fatal") cause = rebuildError(message.error);
      else events.message(message);
    });
    child.on("error", (error) => {
      cause = error;
      // A child that never started sends no "exit".
      if (child.pid === undefined) report(null, null);
    });
    child.once("exit", (code, signal) => {
      // Its stderr may hold the reason of its death, but a grandchild (a
      // loader's helper) can keep the pipe open: wait for its end briefly.
      const stderr = child.stderr;
      if (!stderr || stderr.readableEnded) return report(code, signal);
      const timer = setTimeout(() => report(code, signal), STDERR_WAIT_MS);
      stderr.once("end", () => {
        clearTimeout(timer);
        report(code, signal);
      });
    });

    return {
      label: `child process ${child.pid ?? "(not started)"}`,
      send: (message) => {
        // A child that just died cannot be written to; its "exit" follows.
        if (child.connected) child.send(message, () => {});
      },
      // Closing the channel makes the child end itself (see child-main.ts).
      retire: () => (child.connected ? child.disconnect() : child.kill("SIGKILL")),
      kill: () => void child.kill("SIGKILL"),
    };
  };
}

/** The parent's flags minus those a child must not share (debug ports, heap size). */
export function childExecArgv(parent: readonly string[], memoryLimitMb: number | null): string[] {
  const kept = parent.filter(
    (flag) =>
      !/^--(inspect|debug)(-brk|-port|-wait)?(=|$)/.test(flag) &&
      !flag.startsWith("--max-old-space-size"),
  );
  return memoryLimitMb === null ? kept : [...kept, `--max-old-space-size=${memoryLimitMb}`];
}
