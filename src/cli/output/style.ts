/**
 * Terminal styling: ANSI colors only on a terminal and only without NO_COLOR
 * (https://no-color.org), plus byte formatting shared by every display.
 */
import type { OutputStream } from "../cli-io.js";

export interface Style {
  readonly color: boolean;
  red(text: string): string;
  yellow(text: string): string;
  green(text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

/**
 * @example
 * const style = styleFor(io.stderr, io.env); io.stderr.write(style.red("error") + "\n");
 */
export function styleFor(stream: OutputStream, env: NodeJS.ProcessEnv): Style {
  const color = stream.isTTY === true && !env.NO_COLOR && env.TERM !== "dumb";
  const wrap =
    (open: number, close: number) =>
    (text: string): string =>
      color ? `\u001b[${open}m${text}\u001b[${close}m` : text;
  return { color, red: wrap(31, 39), yellow: wrap(33, 39), green: wrap(32, 39), bold: wrap(1, 22), dim: wrap(2, 22) };
}

const UNITS = ["B", "kB", "MB", "GB", "TB"];

/**
 * Bytes in decimal units, the way docker prints them.
 *
 * @example
 * formatBytes(1_234_567) // → "1.2 MB"
 */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? String(Math.round(value)) : value.toFixed(1)} ${UNITS[unit]}`;
}
