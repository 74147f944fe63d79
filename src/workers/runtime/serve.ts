/**
 * The inside of a thread or child process of a pool: loads task modules,
 * runs the tasks it is sent, fires their signals when told, and answers
 * with the encoded result or the error.
 */
import { encodeValue } from "../../codec/value.js";
import { toErrorInfo } from "../../errors.js";
import { runAsTask } from "../../task/context.js";
import { knownTaskNames } from "../../task/define.js";
import { decodeArgs, findTaskFunction, knownDefinition } from "../task-function.js";
import { type ImportOptions, importTaskModules, TaskModuleError } from "../task-modules.js";
import {
  type FromRuntime,
  type InitMessage,
  type RemoteError,
  type RunMessage,
  rebuildError,
  type TaskSpec,
  type ToRuntime,
} from "./protocol.js";

/** How the runtime talks to its pool: a thread's port or a child's IPC channel. */
export interface Channel {
  send(message: FromRuntime): void;
  onMessage(listener: (message: ToRuntime) => void): void;
  /** Memory in MB, reported after each task so the pool can recycle. */
  memoryMb(): number;
}

/** Serves tasks over `channel` until the thread or process ends. */
export function serve(channel: Channel): void {
  const running = new Map<number, AbortController>();
  let importOptions: ImportOptions = {};
  let ready: Promise<void> = Promise.resolve();

  channel.onMessage((message) => {
    switch (message.type) {
      case "init":
        importOptions = { tsxApi: message.tsxApi };
        ready = init(channel, message, importOptions);
        break;
      case "run": {
        // Registered at once, so that an abort sent right behind the run finds it.
        const controller = new AbortController();
        running.set(message.job, controller);
        void ready
          .then(() => run(channel, message, controller.signal, importOptions))
          .finally(() => running.delete(message.job));
        break;
      }
      case "abort":
        running.get(message.job)?.abort(rebuildError(message.reason));
        break;
    }
  });
}

async function init(channel: Channel, message: InitMessage, options: ImportOptions): Promise<void> {
  try {
    await importTaskModules(message.modules, options);
  } catch (error) {
    const { module, reason } =
      error instanceof TaskModuleError
        ? error
        : { module: message.modules.join(", "), reason: String(error) };
    channel.send({ type: "load-failed", module, reason });
    return;
  }
  channel.send({ type: "ready", names: knownTaskNames() });
}

async function run(
  channel: Channel,
  { job, task, reportStart }: RunMessage,
  signal: AbortSignal,
  options: ImportOptions,
): Promise<void> {
  const started = reportStart ? () => channel.send({ type: "started", job }) : () => {};
  let answer: FromRuntime;
  try {
    const result = await call(task, signal, options, started);
    answer = { type: "done", job, ok: true, result, memoryMb: channel.memoryMb() };
  } catch (error) {
    answer = {
      type: "done",
      job,
      ok: false,
      error: remoteError(task, error),
      memoryMb: channel.memoryMb(),
    };
  }
  channel.send(answer);
}

// The result is encoded here rather than in the pool's process: the cost of
// encoding stays off the event loop that claims and settles every task, and
// measured cheaper there overall than sending the value with its buffers in
// a transfer list (bench/workers/result-transfer.ts).
async function call(
  task: TaskSpec,
  signal: AbortSignal,
  options: ImportOptions,
  started: () => void,
): Promise<string> {
  const fn = await findTaskFunction(task, options);
  const args = decodeArgs(task);
  // Timed out or cancelled while its module loaded: the function must not start.
  if (signal.aborted) throw signal.reason;
  started();
  const context = {
    id: task.id,
    name: task.name,
    queue: task.queue,
    attempt: task.attempt,
    signal,
  };

  const result = await runAsTask(context, () => fn(...args));
  return encodeValue(result, "result");
}

function remoteError(task: TaskSpec, thrown: unknown): RemoteError {
  const error: RemoteError = toErrorInfo(thrown);
  const backoff = knownDefinition(task.name)?.options.backoff;
  if (typeof backoff === "function") {
    try {
      error.retryDelayMs = backoff(task.failures, thrown);
    } catch {
      // A backoff function that throws leaves the choice to the stored backoff.
    }
  }
  return error;
}
