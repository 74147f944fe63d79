import { InvalidArgumentError } from "../errors.js";
import { callerModule } from "./caller.js";
import type { EnqueueOptions, TaskOptions } from "./options.js";

/** Options of `defineTask`: a name plus the task's default options. */
export interface TaskDefinitionOptions extends TaskOptions {
  /** A name unique in the application; workers find the task by it. */
  name: string;
  /**
   * The module that defines the task, for thread, process and remote workers
   * that load it. Found from the call site when not given; pass
   * `import.meta.url` when the task is defined through a helper of your own.
   */
  module?: string;
}

/** What any task definition has, whatever its argument and result types. */
export type AnyTaskDefinition = Pick<TaskDefinition, "kind" | "name" | "module" | "options">;

/**
 * One call of a task: what `enqueueMany` takes. Build it with
 * `task.call(...args)` to have the arguments checked against the task.
 */
export interface TaskCall {
  task: AnyTaskDefinition | ((...args: never) => unknown);
  args: readonly unknown[];
  options?: EnqueueOptions;
}

/** A named task function with its defaults, made by `defineTask`. */
export interface TaskDefinition<A extends unknown[] = unknown[], R = unknown> {
  readonly kind: "omniq.task";
  readonly name: string;
  readonly fn: (...args: A) => R;
  readonly options: Readonly<TaskOptions>;
  /** The defining module's file URL, or null when it could not be found. */
  readonly module: string | null;
  /** Runs the function here and now, outside any queue: for tests. */
  run(...args: A): Promise<Awaited<R>>;
  /** A copy of this definition with other default options, such as `{ queue: "high" }`. */
  with(options: EnqueueOptions): TaskDefinition<A, R> & { readonly enqueueOptions: EnqueueOptions };
  /** Binds arguments, for `enqueueMany`. */
  call(...args: A): TaskCall;
  /**
   * Binds every argument but the first, which comes from the task before it:
   * for a step of `omniq.chain` (the previous result) or a group's final
   * task (the members' results).
   */
  after(...rest: RestAfterFirst<A>): TaskCall;
}

/** An argument list without its first element. */
export type RestAfterFirst<A extends unknown[]> = A extends [unknown, ...infer Rest] ? Rest : never;

const registry = new Map<string, TaskDefinition>();

const NAME_PATTERN = /^[A-Za-z0-9_.:\-/]{1,200}$/;

/**
 * Defines a task: a function stored under a name so that any worker (in a
 * thread, a child process or another machine) can run it.
 *
 * ```ts
 * export const multiply = defineTask("multiply", async (x: number, y: number) => x * y);
 * ```
 */
export function defineTask<A extends unknown[], R>(
  nameOrOptions: string | TaskDefinitionOptions,
  fn: (...args: A) => R,
): TaskDefinition<A, R> {
  const { name, module, ...options } =
    typeof nameOrOptions === "string" ? { name: nameOrOptions } : nameOrOptions;
  checkName(name);
  if (typeof fn !== "function") {
    throw new InvalidArgumentError(`defineTask("${name}"): the second argument must be a function`);
  }

  const definition = makeDefinition(name, fn, options, module ?? callerModule(defineTask));
  register(definition as unknown as TaskDefinition);
  return definition;
}

function makeDefinition<A extends unknown[], R>(
  name: string,
  fn: (...args: A) => R,
  options: TaskOptions,
  module: string | null,
  enqueueOptions?: EnqueueOptions,
): TaskDefinition<A, R> & { readonly enqueueOptions?: EnqueueOptions } {
  return {
    kind: "omniq.task",
    name,
    fn,
    options,
    module,
    enqueueOptions,
    run: async (...args: A): Promise<Awaited<R>> => await (fn(...args) as Awaited<R>),
    with(extra: EnqueueOptions) {
      const merged = { ...enqueueOptions, ...extra };
      return makeDefinition(name, fn, options, module, merged) as TaskDefinition<A, R> & {
        readonly enqueueOptions: EnqueueOptions;
      };
    },
    call: (...args: A) => ({
      task: makeDefinition(name, fn, options, module, enqueueOptions),
      args,
    }),
    after: (...rest: RestAfterFirst<A>) => ({
      task: makeDefinition(name, fn, options, module, enqueueOptions),
      args: rest,
    }),
  };
}

function checkName(name: unknown): asserts name is string {
  if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
    throw new InvalidArgumentError(
      `defineTask: task name ${JSON.stringify(name)} is not allowed; use 1 to 200 letters, ` +
        `digits and _ . : - /`,
    );
  }
}

function register(definition: TaskDefinition): void {
  const existing = registry.get(definition.name);
  if (existing && existing.module !== definition.module) {
    throw new InvalidArgumentError(
      `defineTask: the name "${definition.name}" is already used by a task defined in ` +
        `${existing.module ?? "an unknown module"}; task names must be unique`,
    );
  }
  // The same module may define a task again (a module loaded twice, a test reloading it).
  registry.set(definition.name, definition);
}

/** The definition registered under `name` in this process, if any. */
export function lookupTask(name: string): TaskDefinition | undefined {
  return registry.get(name);
}

/** Names of every task defined in this process, for error messages. */
export function knownTaskNames(): string[] {
  return [...registry.keys()].sort();
}

/** Tells a task definition from a plain function. */
export function isTaskDefinition(value: unknown): value is TaskDefinition {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { kind?: unknown }).kind === "omniq.task"
  );
}
