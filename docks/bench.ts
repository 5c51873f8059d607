// The sync benchmark (`npm run bench`): runs each scenario of
// docks/bench/scenario.ts in a fresh child process (own convex-test backend,
// own emulator, own memory peak), prints one `BENCH {json}` line per scenario
// and a table, and exits 1 when any scenario failed, hit a Convex limit, or
// did not sync every item, or when the sync action's heap (measured in a
// worker capped at Convex's 64 MiB, docks/bench/actionHeap.ts) ran out of
// memory. Flags: --quick (1,000 and 10,000 only), --only=<name>[,<name>]
// (scenario names or prefixes), --rate-limit (adds DigitalOcean 50,000 against
// the real 250 requests/minute), --no-heap (run the action in-process, as
// before the heap measurement), --list.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { DEFAULT_PAGE_CONCURRENCY } from "../convex/docks/http";
import { CONVEX_ACTION_HEAP_MIB, HEAP_TARGET_MIB } from "./bench/actionHeap";
import {
  LIMITS,
  RATE_LIMIT_SCENARIO,
  runPagingScenario,
  runSyncScenario,
  SCENARIOS,
  type PagingResult,
  type PhaseResult,
  type Result,
  type Scenario,
  type SyncResult,
} from "./bench/scenario";

const BENCH_PREFIX = "BENCH ";
const SCRIPT = fileURLToPath(import.meta.url);

function flag(name: string): string | true | undefined {
  for (const arg of process.argv.slice(2)) {
    if (arg === `--${name}`) return true;
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

const allScenarios = () => [...SCENARIOS, RATE_LIMIT_SCENARIO];

function selectScenarios(): Scenario[] {
  const only = flag("only");
  if (typeof only === "string") {
    const wanted = only.split(",").map((s) => s.trim()).filter((s) => s !== "");
    // An exact name picks that scenario; otherwise a name prefix picks every match.
    const matches = (w: string) => {
      const exact = allScenarios().filter((s) => s.name === w);
      return exact.length > 0 ? exact : allScenarios().filter((s) => s.name.startsWith(w));
    };
    const chosen = allScenarios().filter((s) => wanted.some((w) => matches(w).includes(s)));
    if (chosen.length === 0) {
      throw new Error(`--only=${only} matches no scenario; known: ${allScenarios().map((s) => s.name).join(", ")}`);
    }
    return chosen;
  }
  const base = flag("quick") === true ? SCENARIOS.filter((s) => s.quick) : SCENARIOS;
  return flag("rate-limit") === true ? [...base, RATE_LIMIT_SCENARIO] : base;
}

// --- child: one scenario ---------------------------------------------------

async function runChild(name: string): Promise<number> {
  const spec = allScenarios().find((s) => s.name === name);
  if (spec === undefined) throw new Error(`unknown scenario ${name}`);
  const log = (line: string) => console.log(`[${name}] ${line}`);
  const heap = flag("no-heap") !== true;
  const result: Result =
    spec.kind === "paging" ? await runPagingScenario(spec, log) : await runSyncScenario(spec, log, { heap });
  log(`${result.ok ? "ok" : "FAILED"} in ${(result.totalMs / 1000).toFixed(1)} s, peak rss ${result.peakRssMb} MB, heap ${result.peakHeapMb} MB`);
  console.log(BENCH_PREFIX + JSON.stringify(result));
  return result.ok ? 0 : 1;
}

// --- parent: every scenario in its own process ------------------------------

function runInChild(spec: Scenario): Promise<Result> {
  return new Promise((resolve) => {
    // A fresh process per scenario: a fresh convex-test and a memory peak that is
    // this scenario's own. process.execArgv carries tsx's loader.
    const passed = flag("no-heap") === true ? ["--no-heap"] : [];
    const child = spawn(process.execPath, [...process.execArgv, SCRIPT, `--child=${spec.name}`, ...passed], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let result: Result | undefined;
    const stderr: string[] = [];
    createInterface({ input: child.stdout }).on("line", (line) => {
      console.log(line);
      if (line.startsWith(BENCH_PREFIX)) result = JSON.parse(line.slice(BENCH_PREFIX.length)) as Result;
    });
    createInterface({ input: child.stderr }).on("line", (line) => {
      console.error(line);
      stderr.push(line);
    });
    child.on("close", (code, signal) => {
      if (result !== undefined) {
        resolve(result);
        return;
      }
      // The child died before reporting (a crash, out of memory): a failure too.
      const failure = `the scenario process ended (${signal ?? `exit ${code}`}) without a result: ${stderr.slice(-3).join(" | ")}`;
      const crashed = {
        scenario: spec.name,
        kind: spec.kind,
        ok: false,
        failures: [failure],
      } as unknown as Result;
      console.log(BENCH_PREFIX + JSON.stringify(crashed));
      resolve(crashed);
    });
  });
}

const seconds = (ms: number | undefined) => (ms === undefined ? "-" : (ms / 1000).toFixed(1));
const mib = (bytes: number) => (bytes / (1024 * 1024)).toFixed(2);

function byPhase(r: SyncResult): (PhaseResult | undefined)[] {
  return (["first", "unchanged", "changed"] as const).map((p) => r.phases.find((x) => x.phase === p));
}

function triple(r: SyncResult, f: (p: PhaseResult) => string | number): string {
  return byPhase(r)
    .map((p) => (p === undefined ? "-" : String(f(p))))
    .join(" / ");
}

function syncRow(r: SyncResult): string[] {
  if (r.phases === undefined || r.phases.length === 0) {
    return [r.scenario, ...Array<string>(9).fill("-"), `FAIL`];
  }
  const first = r.phases[0];
  const lists = first.list.map((l) => `${l.path.split("/").pop()} ${l.requests}/${l.minimum}`).join(", ");
  const worst = Math.max(...r.phases.flatMap((p) => p.list.map((l) => l.ratio)));
  const maxOf = (f: (p: PhaseResult) => number) => Math.max(...r.phases.map(f));
  const waited = r.phases.find((p) => p.rateLimitWaitMs !== undefined)?.rateLimitWaitMs;
  return [
    r.scenario,
    `${r.items} x ${r.itemBytes?.storage ?? "-"} B`,
    `${lists} (${worst.toFixed(2)})${waited !== undefined ? ` +${r.phases.reduce((s, p) => s + p.list.reduce((t, l) => t + l.answered429, 0), 0)}x429` : ""}`,
    triple(r, (p) => p.mutations),
    triple(r, (p) => p.documentsRead),
    triple(r, (p) => `${p.rowsWritten}`) + ` (exp ${triple(r, (p) => p.expectedRowsWritten)})`,
    `${maxOf((p) => p.maxTx.documentsRead)} / ${maxOf((p) => p.maxTx.documentsWritten)}, ` +
      `${mib(maxOf((p) => p.maxTx.bytesRead))} / ${mib(maxOf((p) => p.maxTx.bytesWritten))}`,
    triple(r, (p) => seconds(p.syncMs)) +
      (waited !== undefined ? ` (after 429 waited ${triple(r, (p) => seconds(p.rateLimitWaitMs))})` : ""),
    `${r.peakRssMb} / ${r.peakHeapMb}`,
    r.ok ? "ok" : "FAIL",
  ];
}

function printHeap(syncs: SyncResult[]): void {
  const rows = syncs.flatMap((r) =>
    (r.phases ?? [])
      .filter((p) => p.heap !== undefined)
      .map((p) => {
        const h = p.heap!;
        const result = h.oom
          ? `FAIL: out of memory${h.uncapped !== undefined ? ` (uncapped ${h.uncapped.peakMib} MiB, live ${h.uncapped.liveMib ?? "-"})` : ""}`
          : h.peakMib > CONVEX_ACTION_HEAP_MIB
            ? "FAIL: over the limit"
            : h.underTarget
              ? "ok, under target"
              : "ok, OVER target";
        return [
          r.scenario,
          p.phase,
          `${r.itemBytes?.storage ?? "-"}`,
          String(h.baselineMib ?? "-"),
          h.oom ? `>= ${h.peakMib}` : String(h.peakMib),
          h.deltaMib === undefined ? "-" : `${h.oom ? ">= " : ""}${h.deltaMib}`,
          String(h.liveMib ?? "-"),
          String(h.majorGcs ?? "-"),
          result,
        ];
      }),
  );
  if (rows.length === 0) return;
  console.log(
    `\nSync action heap (a worker thread with V8's old generation capped at ${CONVEX_ACTION_HEAP_MIB} MiB, ` +
      `Convex's action memory; target ${HEAP_TARGET_MIB} MiB). MiB of used V8 heap:\n`,
  );
  console.log(
    table(["Scenario", "Phase", "Item B", "Baseline", "Peak", "Peak-base", "Live", "Full GCs", "Result"], rows),
  );
}

function printSummary(results: Result[]): void {
  const syncs = results.filter((r): r is SyncResult => r.kind === "sync");
  const paging = results.filter((r): r is PagingResult => r.kind === "paging");
  if (syncs.length > 0) {
    console.log("\nSync scenarios (fresh convex-test with transaction limits, emulator latency 20 ms)");
    console.log("Phases: first sync / unchanged re-sync / re-sync after 100 changes (34 resized, 33 added, 33 removed)\n");
    console.log(
      table(
        [
          "Scenario",
          "Items x avg size",
          "List requests/min (ratio)",
          "Mutations",
          "Docs read",
          "Rows written",
          "Max tx docs r/w, MiB r/w",
          "Sync s",
          "Peak RSS/heap MB",
          "Result",
        ],
        syncs.map(syncRow),
      ),
    );
    console.log(
      `\nLimits per transaction: ${LIMITS.documentsRead} documents read, ${LIMITS.documentsWritten} written, ` +
        `${mib(LIMITS.bytes)} MiB read and written.`,
    );
    printHeap(syncs);
  }
  if (paging.length > 0) {
    console.log("\nPaging: one DigitalOcean volume listing through ProviderClient, emulator latency 20 ms");
    console.log("(median of 3 alternated runs each; the target applies with the emulator in its own process)\n");
    console.log(
      table(
        ["Scenario", "Emulator", "Pages", "Sequential (1) ms", `Concurrent (${DEFAULT_PAGE_CONCURRENCY}) ms`, "Requests seq/conc", "Ratio", "Result"],
        paging.flatMap((p) =>
          p.layouts === undefined
            ? [[p.scenario, "-", "-", "-", "-", "-", "-", "FAIL"]]
            : p.layouts.map((l, i) => [
                p.scenario,
                l.emulator,
                String(p.pages),
                `${l.sequential.ms} (${l.sequential.runsMs.join(", ")})`,
                `${l.concurrent.ms} (${l.concurrent.runsMs.join(", ")})`,
                `${l.sequential.requests}/${l.concurrent.requests}`,
                i === 0 ? `${l.ratio.toFixed(2)} (target >= ${p.target})` : l.ratio.toFixed(2),
                i === 0 ? (p.ok ? "ok" : "FAIL") : "",
              ]),
        ),
      ),
    );
  }
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) {
    console.log("\nFailures:");
    for (const r of failed) for (const f of r.failures) console.log(`  ${r.scenario}: ${f}`);
  }
}

async function runParent(): Promise<number> {
  if (flag("list") === true) {
    for (const s of allScenarios()) console.log(`${s.name}${s.quick ? " (quick)" : ""}`);
    return 0;
  }
  const scenarios = selectScenarios();
  const started = Date.now();
  console.log(`Benchmark: ${scenarios.map((s) => s.name).join(", ")}`);
  const results: Result[] = [];
  for (const spec of scenarios) results.push(await runInChild(spec));
  printSummary(results);
  console.log(`\nTotal ${seconds(Date.now() - started)} s. ${results.every((r) => r.ok) ? "All scenarios passed." : "Some scenarios FAILED."}`);
  return results.every((r) => r.ok) ? 0 : 1;
}

const child = flag("child");
(typeof child === "string" ? runChild(child) : runParent()).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
