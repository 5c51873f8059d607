// The sync action's side of the heap measurement, run in a worker thread whose
// V8 heap is capped like a Convex isolate's (docks/bench/actionHeap.ts starts
// it). It loads the registered action by its function name and calls it with a
// ctx whose runQuery/runMutation/runAction/scheduler forward every call to the
// main thread, where convex-test runs it. It knows nothing of the sync itself.
import { getHeapStatistics, GCProfiler, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { parentPort, workerData } from "node:worker_threads";
import { ConvexError } from "convex/values";
import { getFunctionName, type FunctionReference } from "convex/server";
import type { WorkerIn, WorkerOut, WireError, HeapFigures, CallOp } from "./actionProtocol";

type Handler = (ctx: unknown, args: unknown) => Promise<unknown>;
type Registered = { isAction?: boolean; _handler?: Handler };

const port = parentPort!;
const { modulePath, exportName } = workerData as { modulePath: string; exportName: string };

// A "live heap" figure needs a collection on demand; the flag must be set
// before the function is looked up in a fresh context.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const used = () => getHeapStatistics().used_heap_size;

let peakUsed = 0;
let lastReported = 0;
const sample = () => {
  const now = used();
  if (now > peakUsed) peakUsed = now;
  // Tell the main thread every new MiB of peak: after an out-of-memory exit
  // the last figure it heard is all that is left.
  if (peakUsed - lastReported >= 1024 * 1024) {
    lastReported = peakUsed;
    post({ type: "peak", usedBytes: peakUsed });
  }
};

function post(message: WorkerOut): void {
  port.postMessage(message);
}

// Responses of the provider requests are a point where a listing grows: sample there too.
const originalFetch = globalThis.fetch;
globalThis.fetch = async (...args: Parameters<typeof fetch>) => {
  sample();
  const response = await originalFetch(...args);
  sample();
  return response;
};

let nextId = 0;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();

function revive(error: WireError): Error {
  // ConvexError carries its data (the code the sync checks); rebuild it so
  // `instanceof ConvexError` and `.data` behave as in the backend.
  const e = error.data !== undefined ? new ConvexError(error.data as string) : new Error(error.message);
  e.message = error.message;
  if (error.name !== undefined && error.data === undefined) e.name = error.name;
  return e;
}

function call(op: CallOp, name: string, args: unknown, extra?: { delayMs?: number; timestamp?: number; scheduledId?: string }) {
  sample();
  const id = nextId++;
  return new Promise<unknown>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    post({ type: "call", id, op, name, args, ...extra });
  }).finally(sample);
}

const nameOf = (ref: unknown) => getFunctionName(ref as FunctionReference<"query" | "mutation" | "action">);

const unsupported = (what: string) => () => {
  throw new Error(`${what} is not forwarded by the benchmark's action worker`);
};

const ctx = {
  runQuery: (ref: unknown, args?: unknown) => call("runQuery", nameOf(ref), args ?? {}),
  runMutation: (ref: unknown, args?: unknown) => call("runMutation", nameOf(ref), args ?? {}),
  runAction: (ref: unknown, args?: unknown) => call("runAction", nameOf(ref), args ?? {}),
  scheduler: {
    runAfter: (delayMs: number, ref: unknown, args?: unknown) => call("runAfter", nameOf(ref), args ?? {}, { delayMs }),
    runAt: (timestamp: number | Date, ref: unknown, args?: unknown) =>
      call("runAt", nameOf(ref), args ?? {}, { timestamp: typeof timestamp === "number" ? timestamp : timestamp.getTime() }),
    cancel: (id: string) => call("cancel", "", {}, { scheduledId: id }),
  },
  auth: { getUserIdentity: async () => null },
  storage: { get: unsupported("ctx.storage"), getUrl: unsupported("ctx.storage"), store: unsupported("ctx.storage"), delete: unsupported("ctx.storage"), getMetadata: unsupported("ctx.storage") },
  vectorSearch: unsupported("ctx.vectorSearch"),
};

const loaded = (async () => {
  const mod = (await import(modulePath)) as Record<string, Registered>;
  const func = mod[exportName];
  if (func?.isAction !== true || typeof func._handler !== "function") {
    throw new Error(`${exportName} in ${modulePath} is not a registered action`);
  }
  return func._handler;
})();

async function run(args: unknown): Promise<void> {
  const handler = await loaded;
  // The baseline: module code loaded, everything collectable collected.
  gc();
  gc();
  const baselineBytes = used();
  peakUsed = baselineBytes;
  lastReported = 0;
  post({ type: "peak", usedBytes: peakUsed, baselineBytes });
  // GCProfiler sees every collection without forcing any: the heap just
  // before one is a peak candidate, the heap after a full one is live data.
  const profiler = new GCProfiler();
  profiler.start();
  const timer = setInterval(sample, 2);
  let result: unknown;
  let error: WireError | undefined;
  try {
    result = await handler(ctx, args);
  } catch (e) {
    error = wire(e);
  } finally {
    clearInterval(timer);
    sample();
  }
  const stats = profiler.stop()?.statistics ?? [];
  let peakLive = 0;
  let majorGcs = 0;
  for (const s of stats) {
    peakUsed = Math.max(peakUsed, s.beforeGC.heapStatistics.usedHeapSize);
    if (s.gcType === "MarkSweepCompact") {
      majorGcs++;
      peakLive = Math.max(peakLive, s.afterGC.heapStatistics.usedHeapSize);
    }
  }
  gc();
  const heap: HeapFigures = {
    baselineBytes,
    peakUsedBytes: peakUsed,
    peakLiveBytes: peakLive,
    majorGcs,
    retainedBytes: used(),
    limitBytes: getHeapStatistics().heap_size_limit,
  };
  post({ type: "done", result, error, heap });
}

function wire(e: unknown): WireError {
  if (e instanceof Error) {
    const data = (e as { data?: unknown }).data;
    return { message: e.message, name: e.name, data, stack: e.stack };
  }
  return { message: String(e) };
}

port.on("message", (message: WorkerIn) => {
  if (message.type === "run") {
    void run(message.args);
    return;
  }
  const waiting = pending.get(message.id);
  if (waiting === undefined) return;
  pending.delete(message.id);
  if (message.error !== undefined) waiting.reject(revive(message.error));
  else waiting.resolve(message.value);
});

loaded.then(
  () => post({ type: "ready" }),
  (e: unknown) => post({ type: "failed", error: wire(e) }),
);
