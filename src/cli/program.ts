import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { ENV_VARIABLES } from "../config/env.js";
import { LOG_LEVELS, type LogLevel } from "../config/logger.js";
import { ConfigError, InvalidArgumentError as OmniQArgumentError } from "../errors.js";
import { WORKER_TYPES, type WorkerType } from "../task/state.js";
import { isDuration } from "../util/duration.js";
import { CliError, EXIT } from "./exit-codes.js";
import { addInspectCommands } from "./inspect-commands.js";
import { runWorkerCommand, type WorkerFlags } from "./worker-command.js";

/**
 * Runs the `omniq` command with `argv` (the arguments after the script) and
 * resolves to its exit code. Errors are reported on stderr in one line.
 */
export async function runCli(argv: readonly string[]): Promise<number> {
  let command: Promise<number> | undefined;
  const program = buildProgram((flags) => {
    command = runWorkerCommand(flags);
  });
  addInspectCommands(program, (work) => {
    command = work;
  });

  try {
    await program.parseAsync([...argv], { from: "user" });
    return command ? await command : EXIT.ok;
  } catch (error) {
    return report(error);
  }
}

function buildProgram(onWorker: (flags: WorkerFlags) => void): Command {
  const program = new Command("omniq")
    .description(
      "omniq: a task queue for Node.js. Run workers and inspect queues from the command line.",
    )
    .version(packageVersion(), "-v, --version")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
    })
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText("after", `\n${environmentHelp()}`);

  program
    .command("worker")
    .description("Take tasks from a backend and run them until SIGTERM or SIGINT.")
    .option("--tasks <modules...>", "modules that define tasks, loaded before work starts")
    .option(
      "--storage <url>",
      "the queue's backend, such as sqlite:///var/omniq.db or redis://host",
    )
    .option(
      "--type <types>",
      `worker types, comma-separated: ${WORKER_TYPES.join(", ")}`,
      parseTypes,
    )
    .option("--concurrency <n>", "tasks run at once by each worker type", parseWholeNumber)
    .option(
      "--queues <names>",
      "queues to read, highest priority first, comma-separated",
      parseList,
    )
    .option("--config <file>", "a YAML or JSON config file")
    .option(
      "--stop-timeout <duration>",
      'how long a stop waits for running tasks, such as "30s"',
      parseDuration,
    )
    .addOption(
      new Option("--log-level <level>", "what is logged to stderr (default: warn)").choices(
        LOG_LEVELS,
      ),
    )
    .addHelpText("after", `${workerHelp()}\n\n${environmentHelp()}`)
    .action((options: Record<string, unknown>) => {
      onWorker(toWorkerFlags(options));
    });

  return program;
}

function toWorkerFlags(options: Record<string, unknown>): WorkerFlags {
  return {
    tasks: options.tasks as string[] | undefined,
    storage: options.storage as string | undefined,
    types: options.type as WorkerType[] | undefined,
    concurrency: options.concurrency as number | undefined,
    queues: options.queues as string[] | undefined,
    configFile: options.config as string | undefined,
    stopTimeout: options.stopTimeout as string | undefined,
    logLevel: options.logLevel as LogLevel | undefined,
  };
}

function parseTypes(value: string): WorkerType[] {
  const types = parseList(value);
  const unknown = types.filter((type) => !WORKER_TYPES.includes(type as WorkerType));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(
      `"${unknown.join(", ")}" is not a worker type; use ${WORKER_TYPES.join(", ")}`,
    );
  }
  return types as WorkerType[];
}

function parseWholeNumber(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new InvalidArgumentError(`"${value}" is not a whole number of 1 or more`);
  }
  return Number(value);
}

function parseList(value: string): string[] {
  const items = value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
  if (items.length === 0) throw new InvalidArgumentError("give one or more names, comma-separated");
  return items;
}

function parseDuration(value: string): string {
  if (!isDuration(value)) {
    throw new InvalidArgumentError(
      `"${value}" is not a duration; use milliseconds or such as "30s"`,
    );
  }
  return value;
}

function report(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander has printed its message (or the help) already.
    const shown = ["commander.helpDisplayed", "commander.help", "commander.version"];
    return shown.includes(error.code) && error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof CliError) {
    process.stderr.write(`omniq: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof ConfigError || error instanceof OmniQArgumentError) {
    process.stderr.write(`omniq: ${error.message}\n`);
    return EXIT.usage;
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.stderr.write(`omniq: ${message}\n`);
  return EXIT.failure;
}

function workerHelp(): string {
  return [
    "",
    "Flags are merged with the config file and OMNIQ_* variables; variables win.",
    "The first SIGTERM or SIGINT stops gracefully (see --stop-timeout); a second",
    "hands running tasks back at once. Exit codes: 0 stopped, 1 failed, 2 bad",
    "flags, config or tasks module.",
    "",
    "Example:",
    "  omniq worker --tasks ./dist/tasks.js --storage sqlite:///var/omniq.db --type thread",
  ].join("\n");
}

function environmentHelp(): string {
  const width = Math.max(...ENV_VARIABLES.map((variable) => variable.name.length));
  const rows = ENV_VARIABLES.map((v) => `  ${v.name.padEnd(width)}  ${v.description}`);
  return ["Environment variables:", ...rows].join("\n");
}

/**
 * omniq's version, from the package.json above this module (src/cli and dist/cli both have one).
 */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level < 4; level += 1, dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as PackageJson;
      if (manifest.name === "omniq" && manifest.version) return manifest.version;
    } catch {
      // No package.json at this level: look one higher.
    }
  }
  return "unknown";
}

interface PackageJson {
  name?: string;
  version?: string;
}
