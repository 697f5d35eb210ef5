/**
 * What the suite found: figures (min / median / max of repeated runs) and goal
 * checks (a ratio or a value against its goal), rendered as Markdown and JSON.
 */
import { cpus, totalmem } from "node:os";
import { stats, type Stats } from "./stats.js";

export interface Figure {
  readonly row: number;
  readonly label: string;
  readonly unit: string;
  readonly samples: readonly number[];
  readonly stats: Stats;
}

export interface GoalCheck {
  readonly row: number;
  readonly label: string;
  readonly value: number;
  readonly unit: string;
  /** "≤ 0.8", "= 1", "< 1000 ms" */
  readonly goal: string;
  readonly met: boolean;
}

export const ROW_TITLES: Readonly<Record<number, string>> = {
  1: "Daemonless pull into a fresh OCI layout: public/big:1 (256 MiB, 4 layers), public/layers:1 (~71 MiB, 40 layers)",
  2: "Local daemon pull of public/big:1",
  3: "Fallback penalty: public/app:1 through the daemon, refused credential vs anonymous",
  4: "Remote pull of public/app:1 over SSH",
  5: 'Cold start: `--version`, `--help` and `import("pullback")` vs `node -e 0`',
  6: "Verification latency: `pullback check` vs `skopeo inspect --raw` and `node -e 0`",
  7: "Many images: ensuring 20 small images already present locally",
  9: "`pullback pull` of an image the daemon already has, vs `docker pull` and `node -e 0`",
  10: "Image set: 10 small images in one run vs a shell loop of skopeo copy / docker pull",
  12: "Worst-case inputs stay linear",
};

/**
 * Collects figures and checks as the rows run.
 *
 * @example
 * const report = new Report();
 * const a = report.figure(5, "pullback --version", "ms", samples);
 * report.ratio(5, "--version ÷ node -e 0", a, nodeFigure, 3);
 */
export class Report {
  readonly figures: Figure[] = [];
  readonly checks: GoalCheck[] = [];
  readonly notes: { row: number; text: string }[] = [];
  readonly started = new Date();

  figure(row: number, label: string, unit: string, samples: readonly number[]): Figure {
    const figure = { row, label, unit, samples: samples.map((s) => Math.round(s * 10) / 10), stats: stats(samples) };
    this.figures.push(figure);
    return figure;
  }

  /** Median of `a` over median of `b`, met when at most `max`. */
  ratio(row: number, label: string, a: Figure, b: Figure, max: number): GoalCheck {
    return this.check(row, label, a.stats.median / b.stats.median, "×", `≤ ${max}`, a.stats.median / b.stats.median <= max);
  }

  check(row: number, label: string, value: number, unit: string, goal: string, met: boolean): GoalCheck {
    const check = { row, label, value: Math.round(value * 1000) / 1000, unit, goal, met };
    this.checks.push(check);
    return check;
  }

  note(row: number, text: string): void {
    this.notes.push({ row, text });
  }

  json(runs: number, durationMs: number): unknown {
    return {
      date: this.started.toISOString(),
      durationMs: Math.round(durationMs),
      machine: machine(),
      runs,
      figures: this.figures,
      checks: this.checks,
      notes: this.notes,
    };
  }

  markdown(runs: number, durationMs: number): string {
    const m = machine();
    const lines = [
      "# pullback performance suite",
      "",
      `${this.started.toISOString()} — ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB memory, Node ${m.node}. ${runs} alternating runs per contender; the suite took ${(durationMs / 60_000).toFixed(1)} min. Produced by \`npm run bench\`.`,
      "",
      "## Goals",
      "",
      "| row | figure | value | goal | met |",
      "|---|---|---|---|---|",
      ...this.checks.map(
        (c) =>
          `| ${c.row} | ${c.label} | ${fmt(c.value)}${c.unit === "×" ? "×" : ` ${c.unit}`} | ${c.goal} | ${c.met ? "yes" : "**no**"} |`,
      ),
    ];
    for (const row of [...new Set([...this.figures.map((f) => f.row), ...this.notes.map((n) => n.row)])].sort((a, b) => a - b)) {
      lines.push("", `## ${row}. ${ROW_TITLES[row] ?? ""}`, "", "| figure | min | median | max | unit |", "|---|---|---|---|---|");
      for (const f of this.figures.filter((x) => x.row === row))
        lines.push(`| ${f.label} | ${fmt(f.stats.min)} | ${fmt(f.stats.median)} | ${fmt(f.stats.max)} | ${f.unit} |`);
      const notes = this.notes.filter((n) => n.row === row);
      if (notes.length > 0) lines.push("", ...notes.map((n) => `- ${n.text}`));
    }
    return `${lines.join("\n")}\n`;
  }
}

function fmt(n: number): string {
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);
}

function machine(): { cores: number; cpu: string; memoryGiB: number; node: string } {
  return { cores: cpus().length, cpu: cpus()[0]?.model ?? "unknown", memoryGiB: Math.round(totalmem() / 1024 ** 3), node: process.version };
}
