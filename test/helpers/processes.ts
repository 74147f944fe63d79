import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const WORKER_SCRIPT = fileURLToPath(new URL("../fixtures/worker-process.ts", import.meta.url));

/** Starts test/fixtures/worker-process.ts in a child process; resolves once it says "ready". */
export function startWorkerProcess(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", WORKER_SCRIPT, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("ready")) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`worker process exited early with ${code}`)));
  });
}

/** Kills a child with SIGKILL, as `kill -9` would, and waits until it is gone. */
export function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}
