import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

// Resolved here, since the example runs in a temp dir where "tsx" cannot be found.
const TSX = import.meta.resolve("tsx");

/**
 * Runs `examples/<name>.ts` the way a user does (through tsx, importing the
 * built package), in `cwd` so that its files land in a temp dir.
 */
export function runExample(name: string, cwd: string, env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, ["--import", TSX, `${ROOT}examples/${name}.ts`], {
    cwd,
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
