import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse as devalueParse, stringify as devalueStringify } from "devalue";
import {
  decodeValue,
  ENCODED_EMPTY_LIST,
  encodeValue,
  FORMAT_PREFIX,
} from "../../src/codec/value.js";
import { SerializationError } from "../../src/errors.js";

function roundTrip<T>(value: T): T {
  return decodeValue(encodeValue(value, "args")) as T;
}

describe("encodeValue and decodeValue round trips", () => {
  test("primitives, including the numbers JSON loses", () => {
    const value = [1, "x", true, false, null, undefined, NaN, Infinity, -Infinity, -0, 2.5];
    const back = roundTrip(value);

    assert.deepEqual(back, value);
    assert.ok(Object.is(back[9], -0));
    assert.ok(Number.isNaN(back[6]));
  });

  test("the empty argument list decodes to a fresh array each time", () => {
    assert.equal(encodeValue([], "args"), ENCODED_EMPTY_LIST);

    const first = decodeValue(ENCODED_EMPTY_LIST) as unknown[];
    first.push(1);
    assert.deepEqual(decodeValue(ENCODED_EMPTY_LIST), []);
  });

  test("the fast path and devalue agree on the empty list", () => {
    const nested = encodeValue([[]], "args");
    assert.deepEqual(decodeValue(nested), [[]]);
    assert.ok(ENCODED_EMPTY_LIST.startsWith(FORMAT_PREFIX));
  });

  test("Date, BigInt, RegExp", () => {
    const value = [new Date("2024-05-06T07:08:09.010Z"), 2n ** 70n, -5n, /a+b/gi];
    const back = roundTrip(value);

    assert.ok(back[0] instanceof Date);
    assert.equal(back[0].getTime(), value[0]?.valueOf());
    assert.equal(back[1], 2n ** 70n);
    assert.equal(back[2], -5n);
    assert.ok(back[3] instanceof RegExp);
    assert.equal(String(back[3]), "/a+b/gi");
  });

  test("Map and Set, with object keys and members", () => {
    const key = { id: 1 };
    const value = new Map<unknown, unknown>([
      ["a", 1],
      [key, new Set([1, "two", key])],
      [3n, undefined],
    ]);
    const back = roundTrip(value);

    assert.ok(back instanceof Map);
    assert.deepEqual(back, value);
    const [backKey, backSet] = [...back.entries()][1] as [object, Set<unknown>];
    assert.ok(backSet.has(backKey), "a repeated object stays one object");
  });

  test("every typed array, ArrayBuffer and DataView", () => {
    const value = [
      new Int8Array([-1, 2]),
      new Uint8Array([1, 255]),
      new Uint8ClampedArray([0, 255]),
      new Int16Array([-300, 300]),
      new Uint16Array([65535]),
      new Int32Array([-70000]),
      new Uint32Array([4000000000]),
      new Float32Array([1.5]),
      new Float64Array([Math.PI, -0]),
      new BigInt64Array([-(2n ** 63n)]),
      new BigUint64Array([2n ** 64n - 1n]),
      new Uint8Array([9, 8, 7]).buffer,
      new DataView(new Uint8Array([4, 5]).buffer),
    ];
    const back = roundTrip(value);

    assert.equal(back.length, value.length);
    for (const [i, original] of value.entries()) {
      assert.equal(back[i]?.constructor, original.constructor, `element ${i}`);
    }
    assert.deepEqual(back, value);
  });

  test("a typed array over part of a buffer keeps only its own view", () => {
    const whole = new Uint16Array([1, 2, 3, 4]);
    const part = whole.subarray(1, 3);
    const back = roundTrip(part);

    assert.ok(back instanceof Uint16Array);
    assert.deepEqual([...back], [2, 3]);
  });

  test("Buffer comes back as a Buffer, also empty and pooled", () => {
    const pooled = Buffer.from("hello");
    const value = { data: pooled, empty: Buffer.alloc(0), bytes: new Uint8Array([1]) };
    const back = roundTrip(value);

    assert.ok(Buffer.isBuffer(back.data));
    assert.equal(back.data.toString(), "hello");
    assert.ok(Buffer.isBuffer(back.empty));
    assert.equal(back.empty.length, 0);
    assert.ok(!Buffer.isBuffer(back.bytes), "a plain Uint8Array stays one");
    assert.ok(back.bytes instanceof Uint8Array);
  });

  test("a pooled Buffer does not leak the rest of its pool", () => {
    const secret = Buffer.from("secret-secret-secret");
    const small = Buffer.from("ok");
    assert.equal(small.buffer, secret.buffer, "both sit in Node's shared pool");

    const text = encodeValue([small], "args");
    assert.ok(!text.includes(secret.toString("base64").slice(0, 8)));
    assert.ok(text.length < 80, `encoded ${text.length} chars`);
  });

  test("undefined inside arrays and objects, holes in arrays", () => {
    // biome-ignore lint/suspicious/noSparseArray: a hole is the point of the test
    const value = { list: [1, undefined, , 3], missing: undefined, nested: { u: undefined } };
    const back = roundTrip(value);

    assert.ok(Object.hasOwn(back, "missing"));
    assert.equal(back.missing, undefined);
    assert.ok(Object.hasOwn(back.nested, "u"));
    assert.equal(back.list.length, 4);
    assert.ok(Object.hasOwn(back.list, 1));
    assert.ok(!Object.hasOwn(back.list, 2));
  });

  test("types nested in each other", () => {
    const value = {
      when: [new Date(0), { inner: new Map([["set", new Set([new Date(1), 1n])]]) }],
      bytes: new Map([[1n, [Buffer.from("x"), new Float32Array([0.5])]]]),
      deep: { a: { b: { c: { d: [[[new Set([undefined])]]] } } } },
    };
    assert.deepEqual(roundTrip(value), value);
  });

  test("repeated and circular references", () => {
    const shared = { n: 1 };
    const loop: { self?: unknown; shared: object } = { shared };
    loop.self = loop;
    const [first, second, backLoop] = roundTrip([shared, shared, loop] as const);

    assert.equal(first, second);
    assert.equal(backLoop.self, backLoop);
    assert.equal(backLoop.shared, first);
  });

  test("objects without a prototype, strings with odd characters", () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { k: "</script>" });
    const value = [bare, 'line\nbreak \u2028 \u{1F600} \\ "'];
    const back = roundTrip(value);

    assert.equal(Object.getPrototypeOf(back[0]), null);
    assert.deepEqual(back, value);
  });

  test("plain numbers, strings, booleans and null alone take the short path, in devalue's format", () => {
    const atoms = [
      0,
      42,
      -7,
      2.5,
      1e21,
      Number.MAX_SAFE_INTEGER,
      "",
      "x",
      '"</script>\u2028',
      "\ud800",
    ];
    for (const atom of [...atoms, true, false, null]) {
      const text = encodeValue(atom, "result");
      assert.equal(text, `${FORMAT_PREFIX}[${JSON.stringify(atom)}]`);
      assert.equal(decodeValue(text), atom);
      // Readable by devalue itself, and devalue's own text of the same value reads back too.
      assert.equal(devalueParse(text.slice(FORMAT_PREFIX.length)), atom);
      assert.equal(decodeValue(FORMAT_PREFIX + devalueStringify(atom)), atom);
    }
  });

  test("a short list of plain values takes the short path, and devalue reads it the same", () => {
    const lists: unknown[][] = [
      [1],
      [2.5, "x", true, null],
      ['"</script>\u2028', "\ud800", -7, 1e21],
      [1, 1, "a", "a"],
      Array.from({ length: 16 }, (_, i) => i),
    ];
    for (const list of lists) {
      const text = encodeValue(list, "args");
      assert.deepEqual(decodeValue(text), list);
      assert.deepEqual(devalueParse(text.slice(FORMAT_PREFIX.length)), list);
      // devalue's own text of the list (a repeated value written once) reads back too.
      assert.deepEqual(decodeValue(FORMAT_PREFIX + devalueStringify(list)), list);
    }
    assert.equal(encodeValue([5, "x"], "args"), `${FORMAT_PREFIX}[[1,2],5,"x"]`);
  });

  test("a list with anything but plain values, or longer than 16, keeps devalue's form", () => {
    const lists: unknown[][] = [
      Array.from({ length: 17 }, (_, i) => i),
      [1, undefined],
      [NaN],
      [-0],
      [[1]],
      [{ a: 1 }],
      [new Date(0)],
    ];
    for (const list of lists) {
      const text = encodeValue(list, "args");
      assert.equal(text, FORMAT_PREFIX + devalueStringify(list));
      const back = decodeValue(text) as unknown[];
      assert.deepEqual(back, list);
    }
    assert.ok(Object.is((decodeValue(encodeValue([-0], "args")) as number[])[0], -0));
  });

  test("values JSON cannot write alone keep devalue's form", () => {
    for (const value of [NaN, Infinity, -Infinity, -0, undefined, 5n]) {
      const text = encodeValue(value, "result");
      assert.equal(text, FORMAT_PREFIX + devalueStringify(value));
      assert.ok(Object.is(decodeValue(text), value));
    }
  });

  test("top-level undefined and plain values", () => {
    assert.equal(decodeValue(encodeValue(undefined, "result")), undefined);
    assert.equal(decodeValue(encodeValue("text", "result")), "text");
    assert.equal(decodeValue(encodeValue(42, "result")), 42);
  });
});

describe("encodeValue refuses what cannot be stored", () => {
  function refusal(value: unknown, root = "args"): SerializationError {
    try {
      encodeValue(value, root);
    } catch (error) {
      assert.ok(error instanceof SerializationError, `threw ${String(error)}`);
      return error;
    }
    assert.fail("encodeValue did not throw");
  }

  test("a function, with the path and the list of what is allowed", () => {
    const error = refusal([5, { cb: () => 1 }]);

    assert.equal(error.path, "args[1].cb");
    assert.match(error.message, /^args\[1\]\.cb is a function/);
    assert.match(error.message, /must be data: numbers, strings, .*Buffer$/);
  });

  test("a symbol", () => {
    const error = refusal({ tag: Symbol("t") }, "result");
    assert.equal(error.path, "result.tag");
    assert.match(error.message, /is a symbol \(Symbol\(t\)\)/);
  });

  test("a class instance names its class", () => {
    class Point {
      x = 1;
    }
    const error = refusal([{ at: new Point() }]);

    assert.equal(error.path, "args[0].at");
    assert.match(error.message, /an instance of class Point/);
  });

  test("a WeakMap and a Promise", () => {
    assert.equal(refusal([1, new WeakMap()]).path, "args[1]");
    assert.match(refusal([1, new WeakMap()]).message, /WeakMap/);

    const promise = Promise.resolve(1);
    const error = refusal([{ later: promise }]);
    assert.equal(error.path, "args[0].later");
    assert.match(error.message, /a Promise/);
  });

  test("inside a Map: the value under a key, and a key itself", () => {
    const byString = refusal([new Map([["k", () => 1]])]);
    assert.equal(byString.path, 'args[0].get("k")');

    const byNumber = refusal([new Map([[7, Symbol()]])]);
    assert.equal(byNumber.path, "args[0].get(7)");

    const byObject = refusal([new Map([[{}, () => 1]])]);
    assert.equal(byObject.path, "args[0].values()[0]");

    const badKey = refusal([
      new Map<unknown, number>([
        ["ok", 1],
        [() => 1, 2],
      ]),
    ]);
    assert.equal(badKey.path, "args[0].keys()[1]");
  });

  test("inside a Set", () => {
    const error = refusal({ members: new Set([1, 2, { fn: Math.max }]) });
    assert.equal(error.path, "args.members.values()[2].fn");
    assert.match(error.message, /a function \(max\)/);
  });

  test("deep inside, with keys that are not identifiers", () => {
    const value = [{ a: [{ "odd key": [null, { b: new Map([["x", [Symbol.iterator]]]) }] }] }];
    const error = refusal(value);
    assert.equal(error.path, 'args[0].a[0]["odd key"][1].b.get("x")[0]');
  });

  test("the first occurrence of a repeated bad value is named", () => {
    const fn = () => 1;
    assert.equal(refusal([{ ok: 1 }, { first: fn }, { second: fn }]).path, "args[1].first");
  });

  test("objects with symbol keys", () => {
    const error = refusal([{ [Symbol("s")]: 1 }]);
    assert.equal(error.path, "args[0]");
    assert.match(error.message, /symbol keys/);
  });

  test("a getter that makes a new function each time falls back to devalue's path", () => {
    const tricky = {
      get cb() {
        return () => 1;
      },
    };
    const error = refusal([tricky]);
    assert.equal(error.path, "args[0].cb");
  });

  test("nesting too deep for the stack", () => {
    let deep: unknown[] = [];
    for (let i = 0; i < 100_000; i += 1) deep = [deep];

    const error = refusal(deep, "result");
    assert.equal(error.path, "result");
    assert.match(error.message, /nested too deeply/);
  });
});

describe("decodeValue", () => {
  function decodeError(text: string): SerializationError {
    try {
      decodeValue(text, "args");
    } catch (error) {
      assert.ok(error instanceof SerializationError, `threw ${String(error)}`);
      return error;
    }
    assert.fail("decodeValue did not throw");
  }

  test("corrupted text is a SerializationError with an excerpt, not a SyntaxError", () => {
    const good = encodeValue([{ a: 1, b: "x" }], "args");
    const error = decodeError(good.slice(0, -3));

    assert.equal(error.path, "args");
    assert.match(error.message, /^args could not be decoded/);
    assert.ok(error.message.includes(JSON.stringify(good.slice(0, -3))));
    assert.ok(error.cause instanceof SyntaxError);
  });

  test("text without the format prefix", () => {
    const error = decodeError('{"a":1}');
    assert.match(error.message, /does not start with "dv1:"/);
  });

  test("a long corrupted text is cut short in the message", () => {
    const error = decodeError(`${FORMAT_PREFIX}[${"9,".repeat(500)}`);
    assert.ok(error.message.length < 400, `message of ${error.message.length} chars`);
    assert.match(error.message, /…"$/);
  });

  test("well-formed JSON that devalue cannot read", () => {
    assert.match(decodeError(`${FORMAT_PREFIX}[]`).message, /Invalid input/);
    assert.match(decodeError(`${FORMAT_PREFIX}[[5]]`).message, /could not be decoded/);
    assert.match(decodeError(`${FORMAT_PREFIX}[["Buffer",1],"not bytes"]`).message, /bytes/);
  });

  test("a crafted payload holding code never runs it", () => {
    const marker = "__omniqCodecRan";
    const code = `globalThis.${marker} = true`;
    const crafted = [
      `[["Function",1],${JSON.stringify(code)}]`,
      `[["eval",1],${JSON.stringify(code)}]`,
      `[{"toString":1,"valueOf":1},${JSON.stringify(code)}]`,
      `[{"__proto__":1},{"polluted":2},true]`,
      `[["Object",1],${JSON.stringify(code)}]`,
      `[["null","constructor",1],${JSON.stringify(code)}]`,
    ];

    for (const body of crafted) {
      try {
        const value = decodeValue(FORMAT_PREFIX + body);
        // Whatever comes back is inert data; touching it must not run anything.
        JSON.stringify(value);
      } catch (error) {
        assert.ok(error instanceof SerializationError, `${body} threw ${String(error)}`);
      }
    }

    assert.equal((globalThis as Record<string, unknown>)[marker], undefined);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test("a code string stays a string", () => {
    const value = decodeValue(`${FORMAT_PREFIX}[[1],"() => process.exit(1)"]`);
    assert.deepEqual(value, ["() => process.exit(1)"]);
  });
});
