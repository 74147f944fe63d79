import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { jsonErrorLine } from "../../src/config/json-error.js";

describe("jsonErrorLine", () => {
  test("valid JSON has no error line", () => {
    const texts = ['{"a": [1, -2.5e3, true, null, "x\\"y"], "b": {}}', "[]", ' "s" ', "0"];
    for (const text of texts) {
      assert.doesNotThrow(() => JSON.parse(text), text);
      assert.equal(jsonErrorLine(text), undefined, text);
    }
  });

  test("finds the line JSON.parse stumbles on", () => {
    const cases: [string, number][] = [
      ['{\n  "a": 1,\n  "b": }\n', 3],
      ['{\n  "a": 1,\n}\n', 3],
      ["{\n  a: 1\n}", 2],
      ['{\n  "a": [1, 2\n', 3],
      ['{"a": 1}\n\n{"b": 2}', 3],
      ['{\n "a": 01\n}', 2],
      ["{\n \"a\": 'x'\n}", 2],
      ["", 1],
    ];
    for (const [text, line] of cases) {
      assert.throws(() => JSON.parse(text), SyntaxError, text);
      assert.equal(jsonErrorLine(text), line, JSON.stringify(text));
    }
  });
});
