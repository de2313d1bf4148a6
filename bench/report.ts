/**
 * Benchmark reporting: prints each table and rewrites its section of
 * docs/BENCHMARKS.md (between markers), leaving other sections as they are.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Task } from 'tinybench';

export interface BenchRow {
  name: string;
  /** Milliseconds. */
  p50: number;
  p99: number;
  samples: number;
  /** p50 divided by the table's baseline p50 (the first row). */
  ratio: number;
}

export interface BenchTable {
  unit: string;
  rows: BenchRow[];
  /** A line under the table: a target, a figure reported elsewhere. */
  note?: string;
}

/**
 * Rows for a finished tinybench run, the first task being the baseline; times are
 * divided by perUnit (e.g. items per run) to report a per-unit latency.
 */
export function rowsOf(tasks: readonly Task[], perUnit = 1): BenchRow[] {
  const latencyOf = (task: Task) => {
    const result = task.result;
    if (result.state !== 'completed') throw new Error(`benchmark '${task.name}' ${result.state}`);
    return result.latency;
  };
  const baseline = latencyOf(tasks[0]!).p50;
  return tasks.map((task) => {
    const latency = latencyOf(task);
    return {
      name: task.name,
      p50: latency.p50 / perUnit,
      p99: latency.p99 / perUnit,
      samples: latency.samplesCount,
      ratio: latency.p50 / baseline,
    };
  });
}

export interface BenchSection {
  title: string;
  tables: BenchTable[];
  /** Markdown appended after the tables (figures that are not timings). */
  extra?: string;
}

const FILE = 'docs/BENCHMARKS.md';
const HEADER = `# Benchmarks

Measured by \`npm run bench\` on the machine named in each section. Each table's
first row is its baseline, measured in the same run; "ratio" is p50 / baseline p50.
Times are latencies per unit as stated; lower is better.
`;

function time(ms: number): string {
  if (ms >= 1) return `${ms.toFixed(3)} ms`;
  if (ms >= 0.001) return `${(ms * 1000).toFixed(2)} µs`;
  return `${(ms * 1e6).toFixed(1)} ns`;
}

export function renderSection(section: BenchSection): string {
  const cpu = cpus();
  const lines = [
    `## ${section.title}`,
    '',
    `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}.`,
    'Reproduce: `npm run bench`.',
  ];
  for (const table of section.tables) {
    lines.push(
      '',
      `Latency ${table.unit}:`,
      '',
      '| case | p50 | p99 | ratio | samples |',
      '| --- | ---: | ---: | ---: | ---: |',
    );
    for (const row of table.rows) {
      lines.push(
        `| ${row.name} | ${time(row.p50)} | ${time(row.p99)} | ${row.ratio.toFixed(2)}x | ${row.samples} |`,
      );
    }
    if (table.note) lines.push('', table.note);
  }
  if (section.extra) lines.push('', section.extra);
  return lines.join('\n');
}

export function printSection(section: BenchSection): void {
  console.log(`\n${renderSection(section)}\n`);
}

/** Replaces (or appends) this section in docs/BENCHMARKS.md. */
export function writeSection(id: string, section: BenchSection): void {
  const start = `<!-- bench:${id}:start -->`;
  const end = `<!-- bench:${id}:end -->`;
  const block = `${start}\n${renderSection(section)}\n${end}`;
  const current = existsSync(FILE) ? readFileSync(FILE, 'utf8') : HEADER;
  const at = current.indexOf(start);
  const next =
    at >= 0
      ? current.slice(0, at) + block + current.slice(current.indexOf(end) + end.length)
      : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(FILE, next);
}
