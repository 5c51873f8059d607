// The messages between the main thread (convex-test) and the action worker of
// the heap measurement: calls the action makes, their answers, and the figures.

export type CallOp = "runQuery" | "runMutation" | "runAction" | "runAfter" | "runAt" | "cancel";

/** An error as it crosses the port; `data` is a ConvexError's payload. */
export type WireError = { message: string; name?: string; data?: unknown; stack?: string };

export type HeapFigures = {
  // used_heap_size after two forced collections, before the action starts.
  baselineBytes: number;
  // Largest used_heap_size seen: sampled every 2 ms, at every forwarded call
  // and provider response, and just before every collection.
  peakUsedBytes: number;
  // Largest used_heap_size right after a full (mark-sweep) collection: live
  // data, garbage excluded. 0 when no full collection ran.
  peakLiveBytes: number;
  majorGcs: number;
  // used_heap_size after a forced collection once the action returned.
  retainedBytes: number;
  // V8's heap_size_limit in the worker (old plus young generation).
  limitBytes: number;
};

export type WorkerIn =
  | { type: "run"; args: unknown }
  | { type: "answer"; id: number; value?: unknown; error?: WireError };

export type WorkerOut =
  | { type: "ready" }
  | { type: "failed"; error: WireError }
  | { type: "peak"; usedBytes: number; baselineBytes?: number }
  | {
      type: "call";
      id: number;
      op: CallOp;
      name: string;
      args: unknown;
      delayMs?: number;
      timestamp?: number;
      scheduledId?: string;
    }
  | { type: "done"; result: unknown; error?: WireError; heap: HeapFigures };
