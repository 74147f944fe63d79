import assert from "node:assert/strict";
import { describe, mock, test } from "node:test";
import { pino } from "pino";
import { createLogger, type Logger, type LogLevel } from "../../src/config/logger.js";
import { resolveConfig } from "../../src/config/resolve.js";

interface Line {
  level: string;
  fields: object | string;
  message: string | undefined;
}

/** A logger that keeps what it is given, and the bindings of its children. */
function recorder(withChild: boolean): { logger: Logger; lines: Line[]; children: object[] } {
  const lines: Line[] = [];
  const children: object[] = [];
  const make = (): Logger => {
    const at = (level: string) => (fields: object | string, message?: string) => {
      lines.push({ level, fields, message });
    };
    const logger: Logger = {
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
    };
    if (withChild) {
      logger.child = (bindings) => {
        children.push(bindings);
        return make();
      };
    }
    return logger;
  };
  return { logger: make(), lines, children };
}

function writeAll(logger: ReturnType<typeof createLogger>): void {
  logger.debug({ n: 1 }, "d");
  logger.info({ n: 2 }, "i");
  logger.warn("w");
  logger.error({ n: 4 }, "e");
}

/** Captures what is written to stderr while `run` runs. */
function captureStderr(run: () => void): string[] {
  const written: string[] = [];
  const spy = mock.method(process.stderr, "write", (chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    run();
  } finally {
    spy.mock.restore();
  }
  return written;
}

describe("createLogger with an application's logger", () => {
  test("the level filters what reaches it", () => {
    const expected: Record<LogLevel, string[]> = {
      silent: [],
      error: ["error"],
      warn: ["warn", "error"],
      info: ["info", "warn", "error"],
      debug: ["debug", "info", "warn", "error"],
    };
    for (const [level, levels] of Object.entries(expected)) {
      const { logger, lines } = recorder(false);
      writeAll(createLogger({ logger, logLevel: level as LogLevel }));
      assert.deepEqual(
        lines.map((line) => line.level),
        levels,
        level,
      );
    }
  });

  test("fields and message are passed through as given", () => {
    const { logger, lines } = recorder(false);
    const log = createLogger({ logger, logLevel: "info" });
    log.info({ task: "t1" }, "claimed");
    log.warn("plain");

    assert.deepEqual(lines, [
      { level: "info", fields: { task: "t1" }, message: "claimed" },
      { level: "warn", fields: "plain", message: undefined },
    ]);
  });

  test("a child uses the logger's own child() with the bindings", () => {
    const { logger, lines, children } = recorder(true);
    const log = createLogger({ logger, logLevel: "debug" }).child({ worker: "w1", queue: "q" });
    log.info({ task: "t" }, "ran");

    assert.deepEqual(children, [{ worker: "w1", queue: "q" }]);
    assert.deepEqual(lines, [{ level: "info", fields: { task: "t" }, message: "ran" }]);
  });

  test("without child(), omniq adds the bindings to each line, nested too", () => {
    const { logger, lines } = recorder(false);
    const log = createLogger({ logger, logLevel: "debug" })
      .child({ worker: "w1" })
      .child({ queue: "q" });
    log.info({ task: "t" }, "ran");
    log.error("failed");

    assert.deepEqual(lines, [
      { level: "info", fields: { worker: "w1", queue: "q", task: "t" }, message: "ran" },
      { level: "error", fields: { worker: "w1", queue: "q" }, message: "failed" },
    ]);
  });

  test("a child keeps its parent's level", () => {
    const { logger, lines } = recorder(true);
    writeAll(createLogger({ logger, logLevel: "warn" }).child({ worker: "w" }));
    assert.deepEqual(
      lines.map((line) => line.level),
      ["warn", "error"],
    );
  });

  test("isEnabled follows the level", () => {
    const { logger } = recorder(false);
    const log = createLogger({ logger, logLevel: "info" });
    assert.equal(log.isEnabled("info"), true);
    assert.equal(log.isEnabled("debug"), false);
  });

  test("a pino logger fits, keeps its `this`, and writes its child's bindings", () => {
    const written: string[] = [];
    const target = pino({ level: "debug" }, { write: (line: string) => written.push(line) });
    const log = createLogger({ logger: target, logLevel: "info" }).child({ worker: "w1" });
    log.info({ task: "t" }, "ran");
    log.debug("dropped by omniq's level");

    assert.equal(written.length, 1);
    const line = JSON.parse(written[0] ?? "{}") as Record<string, unknown>;
    assert.deepEqual([line.worker, line.task, line.msg], ["w1", "t", "ran"]);
  });

  test("resolveConfig passes everything to a given logger unless logLevel says otherwise", async () => {
    const { logger, lines } = recorder(false);
    const config = await resolveConfig({ logger }, {});
    config.logger.debug("hello");

    assert.equal(config.logLevel, "debug");
    assert.equal(lines.length, 1);

    const quiet = await resolveConfig({ logger }, { OMNIQ_LOG_LEVEL: "error" });
    quiet.logger.warn("not passed on");
    assert.equal(lines.length, 1);
  });
});

describe("createLogger without a logger", () => {
  test("silent writes nothing to stderr", () => {
    const written = captureStderr(() => {
      const log = createLogger({ logLevel: "silent" });
      writeAll(log);
      writeAll(log.child({ worker: "w" }));
    });
    assert.deepEqual(written, []);
  });

  test("the default config writes nothing to stderr", async () => {
    const config = await resolveConfig({}, {});
    const written = captureStderr(() => writeAll(config.logger.child({ worker: "w" })));
    assert.deepEqual(written, []);
  });

  test("another level writes filtered JSON lines with the bindings", () => {
    const written = captureStderr(() => {
      const log = createLogger({ logLevel: "warn" }).child({ worker: "w1" });
      writeAll(log);
    });

    assert.equal(written.length, 2);
    assert.ok(written.every((line) => line.endsWith("\n")));
    const [warn, error] = written.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual([warn?.level, warn?.worker, warn?.msg], ["warn", "w1", "w"]);
    assert.deepEqual([error?.level, error?.n, error?.msg], ["error", 4, "e"]);
    assert.equal(typeof error?.time, "number");
  });

  test("errors, bigints and cycles in fields still make a JSON line", () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const written = captureStderr(() => {
      createLogger({ logLevel: "error" }).error(
        { err: new TypeError("boom"), big: 5n, cycle },
        "failed",
      );
    });

    const line = JSON.parse(written[0] ?? "{}") as {
      err: { type: string; message: string };
      big: string;
    };
    assert.deepEqual([line.err.type, line.err.message, line.big], ["TypeError", "boom", "5"]);
  });
});
