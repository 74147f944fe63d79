/**
 * Finding and describing the part of a value that cannot be stored.
 *
 * devalue reports the path of a refused value, but it leaves out Set members
 * and names a refused Map key as if it were the value under that key. So when
 * it refuses something, we walk the value again in the same order devalue
 * does and stop at the first place that holds the very thing it refused.
 *
 * Paths read like JavaScript, rooted at a name the caller gives:
 * `args[1].cb`, `args[0]["a b"]`, `args[0].get("k")` (the value under a
 * primitive Map key), `args[0].keys()[2]` (the third Map key itself),
 * `args[0].values()[2]` (the third Set member, or the value under a Map key
 * that is an object).
 */

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `.name` for keys that are identifiers, `["any other"]` otherwise. */
export function propertySegment(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/**
 * The path from `root` to the first occurrence of `target` inside `value`,
 * or `undefined` when it is not there (a getter that returns a new function
 * on every read, for instance).
 */
export function locate(value: unknown, target: unknown, root: string): string | undefined {
  return visit(value, target, root, new Set());
}

function visit(
  node: unknown,
  target: unknown,
  path: string,
  seen: Set<object>,
): string | undefined {
  if (node === target) return path;
  if (typeof node !== "object" || node === null) return undefined;

  // devalue writes a repeated object once, at its first occurrence, so only
  // that occurrence can be where it failed.
  if (seen.has(node)) return undefined;
  seen.add(node);

  if (Array.isArray(node)) return visitArray(node, target, path, seen);
  if (node instanceof Map) return visitMap(node, target, path, seen);
  if (node instanceof Set) return visitSet(node, target, path, seen);
  if (ArrayBuffer.isView(node)) return undefined;
  return visitObject(node, target, path, seen);
}

function visitArray(
  node: readonly unknown[],
  target: unknown,
  path: string,
  seen: Set<object>,
): string | undefined {
  for (let i = 0; i < node.length; i += 1) {
    if (!Object.hasOwn(node, i)) continue;
    const found = visit(node[i], target, `${path}[${i}]`, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}

function visitMap(
  node: Map<unknown, unknown>,
  target: unknown,
  path: string,
  seen: Set<object>,
): string | undefined {
  let index = 0;
  for (const [key, entry] of node) {
    // devalue writes each key before its value, so a key is checked first.
    const inKey = visit(key, target, `${path}.keys()[${index}]`, seen);
    if (inKey !== undefined) return inKey;

    const inValue = visit(entry, target, mapValuePath(path, key, index), seen);
    if (inValue !== undefined) return inValue;

    index += 1;
  }
  return undefined;
}

function mapValuePath(path: string, key: unknown, index: number): string {
  if (typeof key === "string") return `${path}.get(${JSON.stringify(key)})`;
  if (typeof key === "bigint") return `${path}.get(${key}n)`;
  if (typeof key === "number" && Object.is(key, -0)) return `${path}.get(-0)`;
  if (key === null || ["number", "boolean", "undefined"].includes(typeof key)) {
    return `${path}.get(${String(key)})`;
  }
  return `${path}.values()[${index}]`;
}

function visitSet(
  node: Set<unknown>,
  target: unknown,
  path: string,
  seen: Set<object>,
): string | undefined {
  let index = 0;
  for (const member of node) {
    const found = visit(member, target, `${path}.values()[${index}]`, seen);
    if (found !== undefined) return found;
    index += 1;
  }
  return undefined;
}

function visitObject(
  node: object,
  target: unknown,
  path: string,
  seen: Set<object>,
): string | undefined {
  const record = node as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const found = visit(record[key], target, path + propertySegment(key), seen);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Says in a few words what a refused value is, for the error message. */
export function describeRefused(thing: unknown): string {
  if (typeof thing === "function") {
    return thing.name ? `a function (${thing.name})` : "a function";
  }
  if (typeof thing === "symbol") return `a symbol (${thing.toString()})`;
  if (typeof thing !== "object" || thing === null) return `a ${typeof thing}`;

  if (typeof (thing as { then?: unknown }).then === "function") {
    return "a Promise (await it first and store what it resolves to)";
  }
  if (Object.getOwnPropertySymbols(thing).length > 0) return "an object with symbol keys";
  if (Object.hasOwn(thing, "__proto__")) return 'an object with a "__proto__" key';

  const name = constructorName(thing);
  return name ? `an instance of class ${name}` : "an object with a custom prototype";
}

function constructorName(thing: object): string | undefined {
  const proto: unknown = Object.getPrototypeOf(thing);
  if (typeof proto !== "object" || proto === null) return undefined;

  const ctor: unknown = (proto as { constructor?: unknown }).constructor;
  return typeof ctor === "function" && ctor.name ? ctor.name : undefined;
}
