// Runs one registered Convex action in a worker thread whose V8 heap is capped
// like a Convex isolate's, and measures its heap (docks/bench/actionWorker.ts
// is the worker's side). convex-test stays on the main thread: the worker's
// ctx.runQuery/runMutation/runAction/scheduler calls come back over the port by
// function name and run on the real action ctx convex-test gave the handler.
// Not a sandbox: the worker shares the process, its fetch and its env copy.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { makeFunctionReference } from "convex/server";
import { ConvexError, type Value } from "convex/values";
import { CONVEX_DIR } from "../convexModules";
import type { CallOp, HeapFigures, WireError, WorkerIn, WorkerOut } from "./actionProtocol";

const MiB = 1024 * 1024;
/** Memory of an action in Convex's default runtime. */
export const CONVEX_ACTION_HEAP_MIB = 64;
/** Where the sync should stay, with room for larger items and listings. */
export const HEAP_TARGET_MIB = 24;
// V8 sizes the young generation from the heap limit; for a heap of Convex's
// size (64 MiB user + 32 MiB extra) it is a few MiB. A larger one would let
// garbage pile up outside the capped old generation.
const YOUNG_GENERATION_MIB = 4;
// The re-run after an out-of-memory exit, only to learn how far over the limit the action went.
const UNCAPPED_OLD_GENERATION_MIB = 1024;

export type Ctx = {
  runQuery(ref: unknown, args: unknown): Promise<unknown>;
  runMutation(ref: unknown, args: unknown): Promise<unknown>;
  runAction(ref: unknown, args: unknown): Promise<unknown>;
  scheduler: {
    runAfter(delayMs: number, ref: unknown, args: unknown): Promise<unknown>;
    runAt(timestamp: number, ref: unknown, args: unknown): Promise<unknown>;
    cancel(id: unknown): Promise<unknown>;
  };
};

export type HeapAttempt = {
  capMib: number;
  // The worker died with ERR_WORKER_OUT_OF_MEMORY.
  oom: boolean;
  // Largest used heap the worker reported before it ended (all that is known after an OOM).
  lastSeenBytes: number;
  baselineBytes?: number;
  figures?: HeapFigures;
};

/** One run of the action: under the cap, and after an out-of-memory exit, once more uncapped. */
export type HeapRun = { fn: string; capped: HeapAttempt; uncapped?: HeapAttempt };

type Outcome = { attempt: HeapAttempt; result?: unknown; error?: WireError };

function wire(e: unknown): WireError {
  if (e instanceof Error) return { message: e.message, name: e.name, data: (e as { data?: unknown }).data, stack: e.stack };
  return { message: String(e) };
}

function revive(error: WireError): Error {
  const e = error.data !== undefined ? new ConvexError(error.data as Value) : new Error(error.message);
  e.message = error.message;
  return e;
}

/** "docks/actions:syncDockResources" -> the module file under convex/ and the export. */
function locate(fn: string, dir: string): { modulePath: string; exportName: string } {
  const [path, exportName = "default"] = fn.split(":");
  const file = [".ts", ".js"].map((ext) => join(dir, path + ext)).find((f) => existsSync(f));
  if (file === undefined) throw new Error(`no module for ${fn} under ${dir}`);
  return { modulePath: pathToFileURL(file).href, exportName };
}

async function forward(ctx: Ctx, m: Extract<WorkerOut, { type: "call" }>): Promise<unknown> {
  const op: CallOp = m.op;
  switch (op) {
    case "runQuery":
      return await ctx.runQuery(makeFunctionReference<"query">(m.name), m.args);
    case "runMutation":
      return await ctx.runMutation(makeFunctionReference<"mutation">(m.name), m.args);
    case "runAction":
      return await ctx.runAction(makeFunctionReference<"action">(m.name), m.args);
    case "runAfter":
      return await ctx.scheduler.runAfter(m.delayMs ?? 0, makeFunctionReference<"mutation">(m.name), m.args);
    case "runAt":
      return await ctx.scheduler.runAt(m.timestamp ?? Date.now(), makeFunctionReference<"mutation">(m.name), m.args);
    case "cancel":
      return await ctx.scheduler.cancel(m.scheduledId);
  }
}

export type HostOptions = {
  // Wraps each forwarded call (the benchmark's labelling of what the sync ran).
  scope?: <T>(run: () => Promise<T>) => Promise<T>;
  // Where function names resolve; convex/ unless a test says otherwise.
  dir?: string;
  capMib?: number;
  uncappedMib?: number;
};

export class ActionWorkerHost {
  private runs: HeapRun[] = [];
  private readonly scope: <T>(run: () => Promise<T>) => Promise<T>;
  private readonly capMib: number;
  private readonly uncappedMib: number;
  private readonly target: { modulePath: string; exportName: string };
  private readonly workerUrl = new URL("./actionWorker.ts", import.meta.url).href;
  // The worker cannot start from a .ts file on Node 20 (even with
  // execArgv ["--import", "tsx"] the entry is loaded before the hooks), so a
  // small script registers tsx in the worker and then imports it.
  private readonly tsxApi = import.meta.resolve("tsx/esm/api");

  /** @param fn the action's function name, "docks/actions:syncDockResources" */
  constructor(
    private readonly fn: string,
    options: HostOptions = {},
  ) {
    this.scope = options.scope ?? ((run) => run());
    this.capMib = options.capMib ?? CONVEX_ACTION_HEAP_MIB;
    this.uncappedMib = options.uncappedMib ?? UNCAPPED_OLD_GENERATION_MIB;
    this.target = locate(fn, options.dir ?? CONVEX_DIR);
  }

  /** Runs the action for convex-test: use as the registered action's handler. */
  async run(ctx: Ctx, args: unknown): Promise<unknown> {
    const capped = await this.attempt(ctx, args, this.capMib);
    const record: HeapRun = { fn: this.fn, capped: capped.attempt };
    this.runs.push(record);
    let outcome = capped;
    if (capped.attempt.oom) {
      // The same invocation continues (same lease, idempotent writes) in a
      // worker without the cap, so that the report can say by how much, and
      // the dock ends in a state the next phase can start from. The failure
      // is the benchmark's to report (HeapRun.capped.oom), not the action's.
      outcome = await this.attempt(ctx, args, this.uncappedMib);
      record.uncapped = outcome.attempt;
    }
    if (outcome.attempt.oom) throw new Error(`the action ran out of memory even with ${this.uncappedMib} MiB`);
    if (outcome.error !== undefined) throw revive(outcome.error);
    return outcome.result;
  }

  /** The action runs since the last call, oldest first. */
  take(): HeapRun[] {
    return this.runs.splice(0, this.runs.length);
  }

  private attempt(ctx: Ctx, args: unknown, capMib: number): Promise<Outcome> {
    const bootstrap =
      `import(${JSON.stringify(this.tsxApi)})` +
      `.then((api) => { api.register(); return import(${JSON.stringify(this.workerUrl)}); })` +
      `.catch((e) => require("node:worker_threads").parentPort.postMessage({ type: "failed", error: { message: String((e && e.stack) || e) } }));`;
    const worker = new Worker(bootstrap, {
      eval: true,
      execArgv: [],
      // A copy taken now: the functions read ENCRYPTION_MASTER_KEY, *_API_URL and SYNC_* through `env`.
      env: { ...process.env },
      resourceLimits: { maxOldGenerationSizeMb: capMib, maxYoungGenerationSizeMb: YOUNG_GENERATION_MIB },
      workerData: this.target,
    });
    const attempt: HeapAttempt = { capMib, oom: false, lastSeenBytes: 0 };
    let ended = false;
    const send = (message: WorkerIn) => {
      if (!ended) worker.postMessage(message);
    };
    return new Promise<Outcome>((resolve, reject) => {
      const finish = (outcome: Outcome | Error) => {
        if (ended) return;
        ended = true;
        void worker.terminate();
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      worker.on("message", (m: WorkerOut) => {
        switch (m.type) {
          case "ready":
            send({ type: "run", args });
            return;
          case "failed":
            finish(new Error(`the action worker failed to load: ${m.error.message}`));
            return;
          case "peak":
            attempt.lastSeenBytes = Math.max(attempt.lastSeenBytes, m.usedBytes);
            if (m.baselineBytes !== undefined) attempt.baselineBytes = m.baselineBytes;
            return;
          case "call":
            void this.scope(() => forward(ctx, m)).then(
              (value) => send({ type: "answer", id: m.id, value }),
              (e: unknown) => send({ type: "answer", id: m.id, error: wire(e) }),
            );
            return;
          case "done":
            attempt.figures = m.heap;
            attempt.lastSeenBytes = Math.max(attempt.lastSeenBytes, m.heap.peakUsedBytes);
            finish({ attempt, result: m.result, error: m.error });
            return;
        }
      });
      worker.on("error", (e: Error & { code?: string }) => {
        if (e.code === "ERR_WORKER_OUT_OF_MEMORY") {
          attempt.oom = true;
          finish({ attempt });
          return;
        }
        finish(e);
      });
      worker.on("exit", (code) => finish(new Error(`the action worker exited (${code}) before the action ended`)));
    });
  }
}

export const mib = (bytes: number | undefined) => (bytes === undefined ? undefined : Math.round((bytes / MiB) * 10) / 10);
