/**
 * Plain functions enqueued without `defineTask`. They get a name that only
 * this process knows, so only a worker in this process can run them.
 */
const names = new WeakMap<object, string>();
const functions = new Map<string, (...args: never[]) => unknown>();
let counter = 0;

/** Prefix of names given to plain functions. */
export const LOCAL_PREFIX = "local:";

/** The name under which this process knows `fn`, registering it on first use. */
export function localName(fn: (...args: never[]) => unknown): string {
  let name = names.get(fn);
  if (name === undefined) {
    counter += 1;
    name = `${LOCAL_PREFIX}${fn.name || "anonymous"}#${counter}`;
    names.set(fn, name);
    functions.set(name, fn);
  }
  return name;
}

/** The plain function registered under `name` in this process, if any. */
export function lookupLocal(name: string): ((...args: unknown[]) => unknown) | undefined {
  return functions.get(name) as ((...args: unknown[]) => unknown) | undefined;
}
