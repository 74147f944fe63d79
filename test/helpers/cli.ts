// Runs the `omniq` command from the sources in a child process, as a user would.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MAIN = join(ROOT, "src/cli/main.ts");

/** A running `omniq` command and what it has written so far. */
export interface Cli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `node --import tsx src/cli/main.ts ...args` from the repository root, without OMNIQ_* variables. */
export function cli(args: string[], env: Record<string, string> = {}): Cli {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith("OMNIQ_")),
  );
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], {
    cwd: ROOT,
    env: { ...clean, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Runs the command to its end: its exit code and output. */
async function runToEnd(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = cli(args, env);
  const { code } = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/**
 * Runs a shell command line on a pseudo-terminal (util-linux `script`), so
 * that what it writes for terminals shows; stdout and stderr arrive as one.
 */
function onTerminal(command: string): Promise<{ code: number | null; stdout: string }> {
  const child = spawn("script", ["-qec", command, "/dev/null"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  return new Promise((resolve) => {
    child.once("close", (code) => resolve({ code, stdout: out }));
  });
}

/** Runs the command to its end; `runToEnd.onTerminal` runs one on a pseudo-terminal. */
const runToEndWithTerminal = Object.assign(runToEnd, { onTerminal });

export { runToEndWithTerminal as runToEnd };
