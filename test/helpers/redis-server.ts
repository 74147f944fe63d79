// A private redis-server for tests that stop and restart it: its own port and
// data directory, never the shared server on 6379.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** A redis-server this test owns. */
export interface PrivateRedis {
  port: number;
  url: string;
  /** Starts the server (again) on the same port and data, and waits until it answers. */
  start(): Promise<void>;
  /** Stops it: SIGKILL, as a crash would, or SIGTERM for a clean shutdown. */
  stop(signal?: "SIGKILL" | "SIGTERM"): Promise<void>;
  /** Freezes it (SIGSTOP): connections stay open, nothing answers; `resume` thaws it. */
  pause(): void;
  resume(): void;
  /** Stops it and deletes its data. */
  remove(): Promise<void>;
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

async function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.end("PING\r\n");
      // PONG, or NOAUTH from a server with a password: either way it answers.
      socket.once("data", (data) => resolve(/^(\+PONG|-NOAUTH)/.test(data.toString())));
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Creates a redis-server on a free port in a temp directory, with every
 * write appended to its AOF and fsynced before the reply: a restart keeps all
 * that clients were told was done. `extraArgs` go to redis-server as they
 * are. Call `start()` to run it.
 */
export async function privateRedis(extraArgs: string[] = []): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "omniq-redis-"));
  let child: ChildProcess | null = null;

  const server: PrivateRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""];
      args.push(
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--daemonize",
        "no",
        ...extraArgs,
      );
      child = spawn("redis-server", args, { stdio: "ignore" });
      for (let i = 0; i < 200; i += 1) {
        if (await answers(port)) return;
        await sleep(25);
      }
      throw new Error(`private redis-server on port ${port} did not start`);
    },
    async stop(signal = "SIGKILL") {
      const running = child;
      child = null;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = once(running, "exit");
      running.kill(signal);
      await exited;
    },
    pause() {
      child?.kill("SIGSTOP");
    },
    resume() {
      child?.kill("SIGCONT");
    },
    async remove() {
      server.resume();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}
