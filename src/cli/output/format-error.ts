/**
 * How a failure reads on stderr: the diagnosis (summary, why, numbered steps with
 * their commands), and the stack only when asked for with -v.
 */
import { PullbackError, messageOf } from "../../errors.js";
import type { Style } from "./style.js";

/**
 * @example
 * io.stderr.write(formatError(error, { style, verbose: false }));
 */
export function formatError(error: unknown, options: { readonly style: Style; readonly verbose: boolean }): string {
  const { style } = options;
  const lines: string[] = [];
  const diagnosis = error instanceof PullbackError ? error.diagnosis : undefined;
  if (diagnosis) {
    lines.push(`${style.red(style.bold("error:"))} ${diagnosis.summary}`);
    if (diagnosis.explanation && diagnosis.explanation !== diagnosis.summary) lines.push("", `Why: ${diagnosis.explanation}`);
    if (diagnosis.steps.length > 0) {
      lines.push("", "What to do:");
      diagnosis.steps.forEach((step, index) => {
        lines.push(`  ${index + 1}. ${step.text}`);
        if (step.command) lines.push(`       ${style.dim("$")} ${step.command}`);
      });
    }
    if (diagnosis.retryable) lines.push("", "Running the same command again later may succeed.");
  } else {
    lines.push(`${style.red(style.bold("error:"))} ${messageOf(error)}`);
  }
  if (options.verbose && error instanceof Error && error.stack) lines.push("", style.dim(stackWithCauses(error)));
  return `${lines.join("\n")}\n`;
}

function stackWithCauses(error: Error): string {
  const parts = [error.stack ?? error.message];
  let cause: unknown = error.cause;
  for (let depth = 0; cause !== undefined && depth < 5; depth++) {
    parts.push(`Caused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : messageOf(cause)}`);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return parts.join("\n");
}
