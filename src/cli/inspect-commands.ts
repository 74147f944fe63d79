// The inspection commands: status, tasks, show, retry, cancel, schedules,
// purge, pause and resume. Each opens omniq as a producer (no worker) on the
// configured backend, does one thing, prints the answer and closes.
import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { OmniQ } from "../omniq/omniq.js";
import { FINAL_STATES, TASK_STATES, type TaskState } from "../task/state.js";
import { CliError, EXIT } from "./exit-codes.js";
import { schedulesTable, statusTable, taskDetails, tasksTable } from "./tables.js";

/** Flags every inspection command takes. */
interface CommonFlags {
  storage?: string;
  config?: string;
  json?: boolean;
}

/** What a command does with an open OmniQ; the answer is printed. */
type Action<F> = (omniq: OmniQ, flags: F, args: string[]) => Promise<unknown>;

/**
 * Adds the inspection commands to `program`. `run` receives each command's
 * work, so that the caller awaits it and turns its end into an exit code.
 */
export function addInspectCommands(program: Command, run: (work: Promise<number>) => void): void {
  const command = <F extends CommonFlags>(name: string, description: string, action: Action<F>) =>
    program
      .command(name)
      .description(description)
      .option("--storage <url>", "the queue's backend, such as sqlite:///var/omniq.db")
      .option("--config <file>", "a YAML or JSON config file")
      .option("--json", "print JSON instead of a table")
      .action((...given: unknown[]) => {
        // Commander passes the positional arguments, then the flags, then the command.
        const flags = given.at(-2) as F;
        const args = given.slice(0, -2) as string[];
        run(inspect(flags, (omniq) => action(omniq, flags, args)));
      });

  command(
    "status",
    "Count tasks per queue and state, and show paused or limited queues.",
    async (omniq, flags) => {
      const [counts, controls] = await Promise.all([omniq.countTasks(), omniq.queueControls()]);
      return flags.json ? { counts, controls } : statusTable(counts, controls);
    },
  );

  command<CommonFlags & TaskListFlags>(
    "tasks",
    "List tasks in enqueue order, filtered by queue, state or name.",
    async (omniq, flags) => {
      const tasks = await omniq.listTasks({
        queue: flags.queue,
        state: flags.state === undefined ? undefined : pickState(flags.state),
        name: flags.name,
        limit: flags.limit === undefined ? 50 : pickCount(flags.limit, "--limit"),
        offset: flags.offset === undefined ? 0 : pickCount(flags.offset, "--offset"),
      });
      return flags.json ? tasks : tasksTable(tasks);
    },
  )
    .option("--queue <name>", "only this queue")
    .option("--state <state>", `only this state: ${TASK_STATES.join(", ")}`)
    .option("--name <task>", "only tasks of this name")
    .option("--limit <n>", "at most this many (default 50)")
    .option("--offset <n>", "skip this many first");

  command(
    "show",
    "Show one task: its record, arguments and events.",
    async (omniq, flags, [id]) => {
      const task = await omniq.getTask(id ?? "");
      const events = await omniq.taskEvents(task.id);
      if (flags.json) return { ...task, events };
      const args = task.args === undefined ? "(cannot be decoded)" : safeJson(task.args);
      return taskDetails({ ...task, payload: "" }, args, events);
    },
  ).argument("<id>", "the task's id");

  command(
    "retry",
    "Enqueue again a task that failed for good, was cancelled or expired.",
    async (omniq, _flags, [id]) => {
      const outcome = await omniq.retry(id ?? "");
      if (outcome === "requeued") return `task ${id} waits again`;
      throw new CliError(`task ${id} was not requeued: ${describeRequeue(outcome)}`, EXIT.failure);
    },
  ).argument("<id>", "the task's id");

  command<CommonFlags & { reason?: string }>(
    "cancel",
    "Cancel a waiting task, or ask a running one to stop.",
    async (omniq, flags, [id]) => {
      const outcome = await omniq.cancel(
        id ?? "",
        flags.reason ?? "cancelled from the command line",
      );
      if (outcome === "unknown") throw new CliError(`no task with id ${id}`, EXIT.failure);
      return `task ${id}: ${outcome}`;
    },
  )
    .argument("<id>", "the task's id")
    .option("--reason <text>", "why, stored with the task");

  command(
    "schedules",
    "List schedules: when each fires, and its newest task.",
    async (omniq, flags) => {
      const schedules = await omniq.listSchedules();
      return flags.json ? schedules : schedulesTable(schedules);
    },
  );

  command<CommonFlags & PurgeFlags>(
    "purge",
    "Delete finished tasks and their results.",
    (omniq, flags) => purge(omniq, flags),
  )
    .option(
      "--states <states>",
      `comma-separated final states (default: ${FINAL_STATES.join(",")})`,
    )
    .option("--queue <name>", "only this queue")
    .option("--older-than <duration>", 'only tasks finished at least this long ago, such as "7d"');

  command(
    "pause",
    "Pause a queue: workers start none of its tasks until it is resumed.",
    async (omniq, _flags, [queue]) => {
      await omniq.pauseQueue(queue ?? "");
      return `queue ${queue} paused`;
    },
  ).argument("<queue>", "the queue's name");

  command("resume", "Resume a paused queue.", async (omniq, _flags, [queue]) => {
    await omniq.resumeQueue(queue ?? "");
    return `queue ${queue} resumed`;
  }).argument("<queue>", "the queue's name");
}

interface TaskListFlags {
  queue?: string;
  state?: string;
  name?: string;
  limit?: string;
  offset?: string;
}

interface PurgeFlags {
  states?: string;
  queue?: string;
  olderThan?: string;
}

/** Opens a producer, runs `work`, prints its answer and closes; resolves to the exit code. */
async function inspect(flags: CommonFlags, work: (omniq: OmniQ) => Promise<unknown>) {
  const omniq = await OmniQ.open({
    storage: flags.storage,
    configFile: flags.config,
    worker: false,
  });
  try {
    const answer = await work(omniq);
    const text =
      typeof answer === "string" && !flags.json ? answer : JSON.stringify(answer, null, 2);
    process.stdout.write(`${text}\n`);
    return EXIT.ok;
  } finally {
    await omniq.close();
  }
}

/** Purges batch by batch, with a progress bar on a terminal. */
async function purge(omniq: OmniQ, flags: CommonFlags & PurgeFlags): Promise<unknown> {
  const states =
    flags.states === undefined ? [...FINAL_STATES] : flags.states.split(",").map(pickState);
  const counts = await omniq.countTasks();
  const queues = flags.queue === undefined ? Object.keys(counts) : [flags.queue];
  const total = queues.reduce(
    (sum, queue) => sum + states.reduce((n, state) => n + (counts[queue]?.[state] ?? 0), 0),
    0,
  );

  const bar =
    process.stderr.isTTY && !flags.json ? new SingleBar({ stream: process.stderr }) : null;
  bar?.start(total, 0);
  try {
    const deleted = await omniq.purge({
      states,
      queue: flags.queue,
      olderThan: flags.olderThan,
      onProgress: (count) => bar?.update(Math.min(count, total)),
    });
    bar?.update(Math.min(deleted, total));
    return flags.json ? { deleted } : `deleted ${deleted} task${deleted === 1 ? "" : "s"}`;
  } finally {
    bar?.stop();
  }
}

function pickState(value: string): TaskState {
  const state = value.trim() as TaskState;
  if (!TASK_STATES.includes(state)) {
    throw new CliError(`"${value}" is not a task state; use ${TASK_STATES.join(", ")}`, EXIT.usage);
  }
  return state;
}

function pickCount(value: string, flag: string): number {
  if (!/^\d+$/.test(value))
    throw new CliError(`${flag}: "${value}" is not a whole number`, EXIT.usage);
  return Number(value);
}

function describeRequeue(outcome: string): string {
  if (outcome === "completed")
    return "it completed; only failed, cancelled or expired tasks are retried";
  if (outcome === "live") return "it has not finished";
  return "no task has this id";
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, item) => (typeof item === "bigint" ? `${item}n` : item));
  } catch {
    return String(value);
  }
}
