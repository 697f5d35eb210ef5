/**
 * The end of a set run: one row per image × host — what became of it, its digest, size
 * and time — as a table a person reads and as the `summary` line of `--json`.
 */
import type { ErrorKind } from "../../errors.js";
import type { ImageSetItem } from "../../sets/set-result.js";
import { isFollowOnFailure } from "../exit-codes.js";
import type { SetItemIndex } from "./set-items.js";
import { formatBytes, type Style } from "./style.js";

/** What became of one image × host. */
export type SetItemResultWord = "pulled" | "already-present" | "fell-back" | "failed";

export interface SummaryRow {
  /** The canonical reference. */
  readonly image: string;
  /** As the user wrote it, with its host: what the table shows. */
  readonly label: string;
  readonly host: string | undefined;
  readonly result: SetItemResultWord;
  readonly kind: ErrorKind | undefined;
  readonly reason: string | undefined;
  readonly message: string | undefined;
  readonly digest: string | undefined;
  /** Daemonless: the size of every blob of the image. */
  readonly bytes: number | undefined;
  /** On a daemon: the bytes of the layers it reported downloading. */
  readonly downloaded: number | undefined;
  readonly durationMs: number;
}

/** The parts of a pulled image the summary reads (DaemonImage and OciPulledImage both fit). */
export interface SummarizedImage {
  readonly digest?: string | undefined;
  readonly alreadyPresent?: boolean;
  readonly bytes?: number;
}

/**
 * @example
 * const rows = summaryRows(items, index, (item) => tallies.get(item)?.total);
 */
export function summaryRows(
  items: readonly ImageSetItem<SummarizedImage>[],
  index: SetItemIndex,
  downloadedFor: (image: string, host: string | undefined) => number | undefined,
): SummaryRow[] {
  return items.map((item) => {
    const key = index.keyOf(item.image, item.host);
    const base = { image: item.image, label: key.label, host: item.host, durationMs: item.durationMs };
    if (!item.ok) {
      const { error } = item;
      return {
        ...base,
        result: "failed",
        kind: error.kind,
        reason: error.reason,
        message: error.diagnosis?.summary ?? error.message,
        digest: undefined,
        bytes: undefined,
        downloaded: undefined,
      };
    }
    const { outcome } = item;
    const present = outcome.image.alreadyPresent === true || outcome.attempts.length === 0;
    const downloaded = downloadedFor(item.image, item.host);
    return {
      ...base,
      result: outcome.fellBack ? "fell-back" : present ? "already-present" : "pulled",
      kind: undefined,
      reason: undefined,
      message: undefined,
      digest: outcome.image.digest,
      bytes: outcome.image.bytes,
      downloaded: downloaded !== undefined && downloaded > 0 ? downloaded : undefined,
    };
  });
}

/** The RESULT column's words. */
export function resultText(row: Pick<SummaryRow, "result" | "kind" | "reason">): string {
  switch (row.result) {
    case "pulled":
      return "pulled";
    case "already-present":
      return "already present";
    case "fell-back":
      return "pulled anonymously after refused credentials";
    case "failed":
      if (row.reason === "cancelled") return "cancelled";
      if (row.reason === "not-written") return "not written";
      return `failed (${row.kind ?? "other"})`;
  }
}

/**
 * The table: IMAGE [HOST] RESULT DIGEST SIZE TIME, columns padded to their widest cell.
 * HOST is left out when no row has one (the local daemon, a daemonless destination).
 *
 * @example
 * for (const line of summaryTable(rows, style)) io.stdout.write(`${line}\n`);
 */
export function summaryTable(rows: readonly SummaryRow[], style: Style): string[] {
  const withHost = rows.some((row) => row.host !== undefined);
  const header = ["IMAGE", ...(withHost ? ["HOST"] : []), "RESULT", "DIGEST", "SIZE", "TIME"];
  const cells = rows.map((row) => [
    withHost ? row.label.replace(/ on .*$/, "") : row.label,
    ...(withHost ? [row.host ?? "local"] : []),
    resultText(row),
    row.digest === undefined ? "-" : shortDigest(row.digest),
    row.bytes !== undefined ? formatBytes(row.bytes) : row.downloaded !== undefined ? formatBytes(row.downloaded) : "-",
    formatDuration(row.durationMs),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((line) => line[column]?.length ?? 0)));
  const resultColumn = withHost ? 2 : 1;
  const render = (line: readonly string[], paint: (text: string, column: number) => string): string =>
    line
      .map((cell, column) =>
        paint(column === line.length - 1 ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0), column),
      )
      .join("  ")
      .trimEnd();
  return [
    render(header, (text) => style.bold(text)),
    ...cells.map((line, rowIndex) =>
      render(line, (text, column) => (column === resultColumn ? paintResult(rows[rowIndex], text, style) : text)),
    ),
    countsLine(rows),
  ];
}

/** "12 images: 9 pulled, 1 already present, 1 pulled anonymously after refused credentials, 1 failed". */
export function countsLine(rows: readonly SummaryRow[]): string {
  const counts = summaryCounts(rows);
  const parts = [
    counts.pulled > 0 ? `${counts.pulled} pulled` : "",
    counts.alreadyPresent > 0 ? `${counts.alreadyPresent} already present` : "",
    counts.fellBack > 0 ? `${counts.fellBack} pulled anonymously after refused credentials` : "",
    counts.failed > 0 ? `${counts.failed} failed` : "",
    counts.notAttempted > 0 ? `${counts.notAttempted} cancelled or not written` : "",
  ].filter((part) => part !== "");
  return `${rows.length} ${rows.length === 1 ? "item" : "items"}: ${parts.join(", ")}`;
}

export interface SummaryCounts {
  readonly pulled: number;
  readonly alreadyPresent: number;
  readonly fellBack: number;
  /** Failed in their own right. */
  readonly failed: number;
  /** Cancelled, or not written because another failed. */
  readonly notAttempted: number;
}

export function summaryCounts(rows: readonly SummaryRow[]): SummaryCounts {
  const followOn = (row: SummaryRow): boolean => row.result === "failed" && isFollowOnFailure(row);
  return {
    pulled: rows.filter((row) => row.result === "pulled").length,
    alreadyPresent: rows.filter((row) => row.result === "already-present").length,
    fellBack: rows.filter((row) => row.result === "fell-back").length,
    failed: rows.filter((row) => row.result === "failed" && !followOn(row)).length,
    notAttempted: rows.filter(followOn).length,
  };
}

/**
 * The `--json` stream's last line for a set.
 *
 * @example
 * io.stdout.write(`${JSON.stringify(summaryJson(rows, 0))}\n`);
 */
export function summaryJson(rows: readonly SummaryRow[], exitCode: number): Record<string, unknown> {
  return {
    type: "summary",
    ok: rows.every((row) => row.result !== "failed"),
    exitCode,
    counts: summaryCounts(rows),
    items: rows.map((row) => ({
      image: row.image,
      host: row.host,
      result: row.result,
      kind: row.kind,
      reason: row.reason,
      message: row.message,
      digest: row.digest,
      bytes: row.bytes,
      downloaded: row.downloaded,
      durationMs: Math.round(row.durationMs),
    })),
  };
}

function paintResult(row: SummaryRow | undefined, text: string, style: Style): string {
  if (row === undefined) return text;
  if (row.result === "failed") return style.red(text);
  return row.result === "fell-back" ? style.yellow(text) : style.green(text);
}

function shortDigest(digest: string): string {
  const [algorithm, hex = ""] = digest.split(":");
  return `${algorithm}:${hex.slice(0, 12)}`;
}

/**
 * @example
 * formatDuration(1234) // → "1.2 s"
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
