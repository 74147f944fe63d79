/**
 * omniq's logging: a pino-compatible logger given by the application, or
 * JSON lines on stderr, or nothing. The library never writes to the console.
 */

/** How much omniq logs, from nothing to everything. */
export type LogLevel = "silent" | "error" | "warn" | "info" | "debug";

/** Every level, quietest first. */
export const LOG_LEVELS: readonly LogLevel[] = ["silent", "error", "warn", "info", "debug"];

/** Extra fields carried by every line of a scoped logger, such as `{ worker, queue }`. */
export type LogBindings = Record<string, unknown>;

/** Writes one line: an object of fields and a message, or just a message (pino's calling style). */
export type LogMethod = (fieldsOrMessage: object | string, message?: string) => void;

/**
 * A logger the application hands omniq. A pino logger fits, and so does any
 * object with these four methods.
 */
export interface Logger {
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  /** A logger that adds `bindings` to every line; when absent, omniq adds them itself. */
  child?(bindings: LogBindings): Logger;
}

/** The logger omniq uses inside: filtered by level, always able to make a scoped child. */
export interface OmniQLogger {
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  /** A logger whose lines also carry `bindings`. */
  child(bindings: LogBindings): OmniQLogger;
  /** Whether a line at `level` would go anywhere, to skip building costly fields. */
  isEnabled(level: Exclude<LogLevel, "silent">): boolean;
}

type WritingLevel = Exclude<LogLevel, "silent">;

const WRITING_LEVELS: readonly WritingLevel[] = ["error", "warn", "info", "debug"];

const NOTHING: LogMethod = () => {};

/**
 * Makes the logger omniq writes to.
 *
 * With `logger`, lines at or above `logLevel` go to it and the rest are
 * dropped before they reach it. Without one, a level other than `silent`
 * writes JSON lines to `process.stderr`; `silent` writes nothing.
 */
export function createLogger(options: {
  logger?: Logger | undefined;
  logLevel: LogLevel;
}): OmniQLogger {
  const { logger, logLevel } = options;
  if (logLevel === "silent") return SILENT;

  return logger ? wrapUserLogger(logger, logLevel, {}) : stderrLogger(logLevel, {});
}

const SILENT: OmniQLogger = {
  debug: NOTHING,
  info: NOTHING,
  warn: NOTHING,
  error: NOTHING,
  child: () => SILENT,
  isEnabled: () => false,
};

function enabledLevels(logLevel: LogLevel): Set<WritingLevel> {
  const limit = LOG_LEVELS.indexOf(logLevel);
  return new Set(WRITING_LEVELS.filter((level) => LOG_LEVELS.indexOf(level) <= limit));
}

function wrapUserLogger(target: Logger, logLevel: LogLevel, bindings: LogBindings): OmniQLogger {
  const enabled = enabledLevels(logLevel);
  const hasBindings = Object.keys(bindings).length > 0;

  // Called as methods of `target`, because pino's methods need their `this`.
  const method = (level: WritingLevel): LogMethod => {
    if (!enabled.has(level)) return NOTHING;
    if (!hasBindings) return (fields, message) => target[level](fields, message);
    return (fields, message) => {
      if (typeof fields === "string") target[level](bindings, fields);
      else target[level]({ ...bindings, ...fields }, message);
    };
  };

  return {
    debug: method("debug"),
    info: method("info"),
    warn: method("warn"),
    error: method("error"),
    child: (more) =>
      // A logger with its own child() keeps the bindings its own way (pino
      // writes them once per child); otherwise omniq merges them into each line.
      typeof target.child === "function" && !hasBindings
        ? wrapUserLogger(target.child(more), logLevel, {})
        : wrapUserLogger(target, logLevel, { ...bindings, ...more }),
    isEnabled: (level) => enabled.has(level),
  };
}

function stderrLogger(logLevel: LogLevel, bindings: LogBindings): OmniQLogger {
  const enabled = enabledLevels(logLevel);

  const method = (level: WritingLevel): LogMethod => {
    if (!enabled.has(level)) return NOTHING;
    return (fields, message) => {
      const line =
        typeof fields === "string"
          ? { level, time: Date.now(), ...bindings, msg: fields }
          : { level, time: Date.now(), ...bindings, ...fields, msg: message };
      process.stderr.write(`${toJsonLine(line)}\n`);
    };
  };

  return {
    debug: method("debug"),
    info: method("info"),
    warn: method("warn"),
    error: method("error"),
    child: (more) => stderrLogger(logLevel, { ...bindings, ...more }),
    isEnabled: (level) => enabled.has(level),
  };
}

/**
 * JSON that survives what log fields hold: errors, bigints, cycles. An object
 * met a second time is written as "[Circular]", repeats included, which is
 * enough for a log line and cheaper than tracking the current branch.
 */
function toJsonLine(line: object): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(line, (_key, value: unknown) => {
    if (typeof value === "bigint") return value.toString();
    if (value instanceof Error) {
      return { type: value.name, message: value.message, stack: value.stack };
    }
    if (typeof value === "object" && value !== null) {
      if (seen.has(value)) return "[Circular]";
      seen.add(value);
    }
    return value;
  });
}
