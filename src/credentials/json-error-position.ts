/**
 * Where a JSON text stops being valid — computed here rather than taken from
 * JSON.parse, whose messages quote the surrounding text (which may be a secret).
 */

/** A position in a text: 1-based line and column, 0-based offset. */
export interface TextPosition {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
}

/**
 * The position of the first error in `text` as strict JSON, or undefined when it is valid
 * (or nested too deeply to tell).
 *
 * @example
 * jsonErrorPosition('{"a": }'); // { offset: 6, line: 1, column: 7 }
 */
export function jsonErrorPosition(text: string): TextPosition | undefined {
  const offset = firstErrorOffset(text);
  if (offset === undefined) return undefined;
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf("\n") + 1;
  return { offset, line: before.split("\n").length, column: offset - lineStart + 1 };
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

function firstErrorOffset(text: string): number | undefined {
  let i = 0;
  const fail = (): never => {
    throw new JsonStop(i);
  };
  const space = (): void => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const expect = (char: string): void => {
    space();
    if (text[i] !== char) fail();
    i++;
  };
  const string = (): void => {
    if (text[i] !== '"') fail();
    i++;
    for (;;) {
      const c = text[i];
      if (c === undefined || c < " ") fail();
      if (c === '"') return void i++;
      if (c !== "\\") {
        i++;
        continue;
      }
      i++;
      if (text[i] !== undefined && '"\\/bfnrt'.includes(text[i]!)) i++;
      else if (text[i] === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) i += 5;
      else fail();
    }
  };
  const sequence = (close: string, item: () => void): void => {
    i++;
    space();
    if (text[i] === close) return void i++;
    for (;;) {
      item();
      space();
      if (text[i] === close) return void i++;
      if (text[i] !== ",") fail();
      i++;
    }
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === "{") return sequence("}", () => (space(), string(), expect(":"), value()));
    if (c === "[") return sequence("]", value);
    if (c === '"') return string();
    for (const word of ["true", "false", "null"]) if (text.startsWith(word, i)) return void (i += word.length);
    NUMBER.lastIndex = i;
    if (NUMBER.test(text)) return void (i = NUMBER.lastIndex);
    fail();
  };
  try {
    value();
    space();
    if (i < text.length) fail();
    return undefined;
  } catch (stop) {
    if (stop instanceof JsonStop) return stop.offset;
    // Nesting deeper than the stack: give up on the position rather than fail the caller.
    if (stop instanceof RangeError) return undefined;
    throw stop;
  }
}

/** Control flow only: carries the offset out of the recursion. Never escapes this module. */
class JsonStop extends Error {
  constructor(readonly offset: number) {
    super(`invalid JSON at offset ${offset}`);
  }
}
