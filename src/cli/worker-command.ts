import { readConfigFile } from "../config/file.js";
import type { LogLevel } from "../config/logger.js";
import { resolveConfig } from "../config/resolve.js";
import type { OmniQConfig, OmniQConfigInput, WorkerConfig } from "../config/types.js";
import type { Storage } from "../storage/contract.js";
import { openStorage } from "../storage/open.js";
import type { WorkerType } from "../task/state.js";
import { redactUrl } from "../util/redact.js";
import { createWorker } from "../workers/factory.js";
import { workerSettingsFromConfig } from "../workers/options.js";
import type { Worker } from "../workers/worker.js";
import { CliError, EXIT } from "./exit-codes.js";

/** What `omniq worker` was given on its command line; absent flags leave the config's values. */
export interface WorkerFlags {
  tasks?: string[];
  storage?: string;
  types?: WorkerType[];
  concurrency?: number;
  queues?: string[];
  configFile?: string;
  stopTimeout?: string;
  logLevel?: LogLevel;
}

/**
 * `omniq worker`: starts a worker of each configured type on the backend,
 * prints one line saying what it serves, and runs until SIGTERM or SIGINT.
 * Resolves to the exit code.
 */
export async function runWorkerCommand(flags: WorkerFlags): Promise<number> {
  const config = await resolveWorkerConfig(flags);
  const workerConfig = config.worker;
  if (workerConfig === false) {
    throw new CliError(
      "the configuration says worker: false; the worker command needs a worker",
      EXIT.usage,
    );
  }

  // Listening from the start: a signal during start-up stops the worker once it runs.
  const signals = new StopSignals();
  try {
    const storage = await open(config);
    const given = await concurrencyGiven(flags, config);
    const workers = await startWorkers(config, workerConfig, storage, given);
    process.stdout.write(`${startupLine(config, workerConfig, workers)}\n`);

    await stopOnSignals(signals, workers, config.stopTimeoutMs);
    await storage.close();
    return EXIT.ok;
  } finally {
    signals.dispose();
  }
}

async function startWorkers(
  config: OmniQConfig,
  workerConfig: WorkerConfig,
  storage: Storage,
  concurrencyGiven: boolean,
) {
  const settings = workerSettingsFromConfig(config, workerConfig);
  // The config fills in 10 for every type; when nobody chose, each type takes
  // its own default (cores for thread and process, 1,000 for gevent).
  if (!concurrencyGiven) settings.concurrency = undefined;
  const workers = workerConfig.types.map((type) => createWorker(type, storage, settings));
  try {
    for (const worker of workers) await worker.start();
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.stop({ timeoutMs: 0 })));
    await storage.close();
    throw error;
  }
  return workers;
}

/**
 * The configuration with the flags as the options-object layer: above the
 * config file, below `OMNIQ_*` variables. Without `--log-level` or a level
 * from the file or environment, the command logs warnings: a worker nobody
 * hears from is hard to run.
 */
async function resolveWorkerConfig(flags: WorkerFlags): Promise<OmniQConfig> {
  const input: OmniQConfigInput = {
    configFile: flags.configFile,
    storage: flags.storage,
    stopTimeout: flags.stopTimeout,
    logLevel: flags.logLevel,
    worker: {
      tasks: flags.tasks,
      concurrency: flags.concurrency,
      queues: flags.queues,
      types: flags.types,
    },
  };
  const config = await resolveConfig(input);
  if (flags.logLevel || config.logLevel !== "silent" || process.env.OMNIQ_LOG_LEVEL) return config;
  return resolveConfig({ ...input, logLevel: "warn" });
}

/** Whether a flag, a variable or the config file chose the concurrency. */
async function concurrencyGiven(flags: WorkerFlags, config: OmniQConfig): Promise<boolean> {
  if (flags.concurrency !== undefined || process.env.OMNIQ_CONCURRENCY?.trim()) return true;
  if (config.configFile === null) return false;

  const file = await readConfigFile(config.configFile, "the worker command");
  const worker = (file.data as { worker?: unknown }).worker;
  return typeof worker === "object" && worker !== null && "concurrency" in worker;
}

/** The queue's backend, with results and events where the configuration puts them. */
async function open(config: OmniQConfig): Promise<Storage> {
  const { storage: url, results, events, recordEvents } = config;
  try {
    return await openStorage(url, { results, events, recordEvents });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(`could not open storage ${redactUrl(url)}: ${reason}`, EXIT.failure);
  }
}

/** The line printed once the workers run: what they serve, without credentials. */
export function startupLine(
  config: Pick<OmniQConfig, "storage"> &
    Partial<Pick<OmniQConfig, "results" | "events" | "recordEvents">>,
  worker: Pick<WorkerConfig, "queues" | "types" | "tasks">,
  workers: ReadonlyArray<Pick<Worker, "type" | "concurrency" | "taskNames">>,
): string {
  const concurrency = workers.map((w) =>
    workers.length > 1 ? `${w.type} ${w.concurrency}` : w.concurrency,
  );
  const names = [...new Set(workers.flatMap((w) => w.taskNames()))].sort();
  const tasks =
    worker.tasks.length === 0
      ? "tasks: none given (each task's module is loaded when it first runs)"
      : `tasks: ${names.length} found${names.length ? ` (${names.join(", ")})` : ""}`;
  return (
    `omniq worker: serving ${redactUrl(config.storage)}${whereElse(config)}; ` +
    `queues ${worker.queues.join(",")}; ` +
    `type ${worker.types.join(",")}; concurrency ${concurrency.join(", ")}; ${tasks}`
  );
}

/** Where results and events go when not with the queue, as " (results on …, events on …)". */
function whereElse(config: Parameters<typeof startupLine>[0]): string {
  const apart: string[] = [];
  if (config.results && config.results !== config.storage) {
    apart.push(`results on ${redactUrl(config.results)}`);
  }
  if (config.recordEvents === false) apart.push("no events");
  else if (config.events && config.events !== config.storage) {
    apart.push(`events on ${redactUrl(config.events)}`);
  }
  return apart.length === 0 ? "" : ` (${apart.join(", ")})`;
}

/** SIGTERM and SIGINT, counted from when the command starts. */
class StopSignals {
  private received: NodeJS.Signals[] = [];
  private listener: ((signal: NodeJS.Signals) => void) | undefined;
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.received.push(signal);
    this.listener?.(signal);
  };

  constructor() {
    process.on("SIGTERM", this.onSignal);
    process.on("SIGINT", this.onSignal);
  }

  /** Calls `listener` with every signal, those already received first. */
  listen(listener: (signal: NodeJS.Signals) => void): void {
    this.listener = listener;
    for (const signal of this.received) listener(signal);
  }

  dispose(): void {
    process.off("SIGTERM", this.onSignal);
    process.off("SIGINT", this.onSignal);
  }
}

/**
 * Resolves once the workers have stopped: the first SIGTERM or SIGINT stops
 * them gracefully, a second hands what still runs back at once.
 */
function stopOnSignals(signals: StopSignals, workers: readonly Worker[], stopTimeoutMs: number) {
  return new Promise<void>((resolve, reject) => {
    let stopping = false;
    signals.listen((signal) => {
      if (stopping) {
        process.stdout.write(`omniq worker: ${signal} again: handing running tasks back now\n`);
        for (const worker of workers) void worker.stop({ timeoutMs: 0 });
        return;
      }
      stopping = true;
      process.stdout.write(
        `omniq worker: ${signal}: stopping; running tasks have ${stopTimeoutMs} ms to finish ` +
          `(${signal} again hands them back now)\n`,
      );
      Promise.all(workers.map((worker) => worker.stop())).then(() => {
        process.stdout.write("omniq worker: stopped\n");
        resolve();
      }, reject);
    });
  });
}
