/**
 * Where a JSON text stops being JSON. Node 20's `JSON.parse` errors often
 * give no position at all ("Unexpected token '}', ... is not valid JSON"),
 * and the YAML parser accepts much that JSON does not (`"a": }` is a null to
 * it). This scan only finds the place for the error message; `JSON.parse`
 * remains the parser.
 */

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERALS = ["true", "false", "null"];

class Stop {}

/** The 1-based line of the first syntax error in `text`, or `undefined` if there is none. */
export function jsonErrorLine(text: string): number | undefined {
  let at = 0;

  const skipWhitespace = () => {
    while (WHITESPACE.has(text[at] ?? "")) at += 1;
  };
  const expect = (char: string) => {
    skipWhitespace();
    if (text[at] !== char) throw new Stop();
    at += 1;
  };

  const string = () => {
    expect('"');
    while (at < text.length) {
      const char = text[at] ?? "";
      if (char === '"') {
        at += 1;
        return;
      }
      if (char < " ") throw new Stop();
      at += char === "\\" ? 2 : 1;
    }
    throw new Stop();
  };

  // A list of items between open and close, separated by commas.
  const items = (close: string, item: () => void) => {
    at += 1;
    skipWhitespace();
    if (text[at] === close) {
      at += 1;
      return;
    }
    for (;;) {
      item();
      skipWhitespace();
      if (text[at] !== ",") break;
      at += 1;
    }
    expect(close);
  };

  const value = (): void => {
    skipWhitespace();
    const char = text[at];
    if (char === "{") items("}", member);
    else if (char === "[") items("]", value);
    else if (char === '"') string();
    else scalar();
  };

  const scalar = () => {
    const literal = LITERALS.find((word) => text.startsWith(word, at));
    if (literal) {
      at += literal.length;
      return;
    }
    NUMBER.lastIndex = at;
    if (!NUMBER.test(text)) throw new Stop();
    at = NUMBER.lastIndex;
  };

  const member = () => {
    string();
    expect(":");
    value();
  };

  try {
    value();
    skipWhitespace();
    if (at < text.length) throw new Stop();
    return undefined;
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    return text.slice(0, Math.min(at, text.length)).split("\n").length;
  }
}
