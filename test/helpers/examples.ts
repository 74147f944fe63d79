import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

// Resolved here, since the example runs in a temp dir where "tsx" cannot be found.
const TSX = import.meta.resolve("tsx");

/**
 * Runs `examples/<name>.ts` the way a user does (through tsx, importing the
 * built package), in `cwd` so that its files land in a temp dir. It does not
 * block the event loop, so other tests' timers keep running meanwhile.
 */
export function runExample(
  name: string,
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", TSX, `${ROOT}examples/${name}.ts`],
      { cwd, encoding: "utf8", timeout: 60_000, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ status, stdout, stderr });
      },
    );
  });
}
