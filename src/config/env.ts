/**
 * `OMNIQ_*` environment variables: the one list of them, and reading them
 * into the same shape as the options object.
 */

/** How a variable's text is read. */
export type EnvKind = "string" | "integer" | "boolean" | "list" | "duration";

/** One environment variable omniq reads. */
export interface EnvVariable {
  /** Such as `OMNIQ_LEASE`. */
  name: string;
  /** The option it sets, as a dotted path, such as `worker.concurrency`. */
  field: string;
  kind: EnvKind;
  /** One line for the README table and `omniq --help`. */
  description: string;
}

/**
 * Every environment variable omniq reads. An empty variable counts as unset.
 * Variables win over the options object and the config file.
 */
export const ENV_VARIABLES: readonly EnvVariable[] = [
  {
    name: "OMNIQ_CONFIG",
    field: "configFile",
    kind: "string",
    description: "Path of a YAML or JSON config file to read",
  },
  {
    name: "OMNIQ_STORAGE",
    field: "storage",
    kind: "string",
    description: "URL of the queue's backend (default `sqlite://./.omniq/omniq.db`)",
  },
  {
    name: "OMNIQ_RESULTS",
    field: "results",
    kind: "string",
    description: "URL of the backend for results (default: the storage URL)",
  },
  {
    name: "OMNIQ_EVENTS",
    field: "events",
    kind: "string",
    description: "URL of the backend for lifecycle events (default: the storage URL)",
  },
  {
    name: "OMNIQ_DEFAULT_WORKER",
    field: "defaultWorker",
    kind: "string",
    description:
      "Worker type for tasks that name none: async, thread, process or gevent (default async)",
  },
  {
    name: "OMNIQ_CONCURRENCY",
    field: "worker.concurrency",
    kind: "integer",
    description:
      "Tasks each worker type runs at once (default: async 10, gevent 1000, thread and process the CPU cores); does not turn `worker: false` into a worker",
  },
  {
    name: "OMNIQ_QUEUES",
    field: "worker.queues",
    kind: "list",
    description: "Comma-separated queues the worker takes tasks from (default `default`)",
  },
  {
    name: "OMNIQ_LEASE",
    field: "lease",
    kind: "duration",
    description: 'How long a claim lasts without a heartbeat, such as "30s" or 30000 (default 30s)',
  },
  {
    name: "OMNIQ_STOP_TIMEOUT",
    field: "stopTimeout",
    kind: "duration",
    description: "How long a graceful stop waits for running tasks (default 10s)",
  },
  {
    name: "OMNIQ_POLL_INTERVAL",
    field: "pollInterval",
    kind: "duration",
    description: "How often to look for tasks on backends that cannot notify (default 200ms)",
  },
  {
    name: "OMNIQ_RECORD_EVENTS",
    field: "recordEvents",
    kind: "boolean",
    description: "Whether to store lifecycle events: true, false, 1 or 0 (default true)",
  },
  {
    name: "OMNIQ_LOG_LEVEL",
    field: "logLevel",
    kind: "string",
    description:
      "silent, error, warn, info or debug (default silent; debug when a logger is given)",
  },
];

/** What the environment sets, shaped like the options object, and which variable set each field. */
export interface EnvInput {
  input: Record<string, unknown>;
  /** Variable name by dotted field path. */
  variables: Map<string, string>;
}

/**
 * Reads `OMNIQ_*` variables. Text that does not parse is kept as text, so validation shows it as
 * given.
 */
export function readEnv(env: NodeJS.ProcessEnv): EnvInput {
  const input: Record<string, unknown> = {};
  const variables = new Map<string, string>();

  for (const variable of ENV_VARIABLES) {
    const text = env[variable.name]?.trim();
    if (!text) continue;

    setPath(input, variable.field.split("."), readText(text, variable.kind));
    variables.set(variable.field, variable.name);
  }
  return { input, variables };
}

const BOOLEANS: Readonly<Record<string, boolean>> = {
  true: true,
  false: false,
  "1": true,
  "0": false,
};

function readText(text: string, kind: EnvKind): unknown {
  switch (kind) {
    case "integer":
      return /^[+-]?\d+$/.test(text) ? Number(text) : text;
    case "boolean":
      return BOOLEANS[text.toLowerCase()] ?? text;
    case "list":
      return text
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item !== "");
    default:
      // Durations stay text: "30000" is milliseconds, "30s" is seconds.
      return text;
  }
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (rest.length === 0) {
    target[head] = value;
    return;
  }

  const existing = target[head];
  const child =
    typeof existing === "object" && existing !== null ? (existing as Record<string, unknown>) : {};
  target[head] = child;
  setPath(child, rest, value);
}
