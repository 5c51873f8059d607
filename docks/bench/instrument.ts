// Benchmark instrumentation of convex-test: counts each transaction's documents
// read and written with convex-test's own TransactionMetricsTracker (patched on
// its prototype) and labels each transaction with the Convex function it ran,
// so the benchmark can tell the sync action's queries and mutations apart from
// its own bookkeeping, and can wait for the sync action to end without polling.
import { AsyncLocalStorage } from "node:async_hooks";
import { relative } from "node:path";
import { performance } from "node:perf_hooks";
// A deep import: convex-test has no "exports" map, so this resolves to the very
// file its dist/index.js imports as "./transactionMetrics.js" (one URL, one
// module instance). installTracking() still proves the patch took effect.
import { TransactionMetricsTracker } from "convex-test/dist/transactionMetrics.js";
import { CONVEX_DIR, convexModules } from "../convexModules";

export type TxKind = "query" | "mutation" | "other";

/** One top-level transaction (a query or mutation with everything it ran nested). */
export type TxRecord = {
  // "docks/mutations:syncDockResources"; "(framework)" for t.run and the
  // scheduler's own bookkeeping, which run no module function.
  fn: string;
  kind: TxKind;
  // Ran inside the sync action (directly through ctx.runQuery/runMutation).
  inSync: boolean;
  reads: number;
  writes: number;
  bytesRead: number;
  bytesWritten: number;
  committed: boolean;
  // Of `writes`, the storage totals documents (insert/patch/replace/delete on storageTotals).
  totalsWrites: number;
  // Of `writes`, the dock document (a chunk mutation may carry the sync's
  // live progress, at most once per 5 s, so its count depends on timing).
  dockWrites: number;
  // Wall time from the transaction's start to its commit or rollback.
  ms: number;
  limitError?: string;
};

type TrackerInternals = { _layers: unknown[] };
type Tracker = InstanceType<typeof TransactionMetricsTracker>;

export const SYNC_ACTION = "docks/actions:syncDockResources";
const syncScope = new AsyncLocalStorage<true>();
const finished: TxRecord[] = [];
const limitErrors: string[] = [];
const byTracker = new WeakMap<object, TxRecord>();
// Top-level transactions are serialized by convex-test's TransactionManager
// (one at a time per convexTest instance), so "the one in progress" is well
// defined; the function wrappers use it to label the transaction they run in.
let current: TxRecord | null = null;
let installed = false;

function depth(tracker: Tracker): number {
  return (tracker as unknown as TrackerInternals)._layers.length;
}

function guarded(record: TxRecord | undefined, run: () => void): void {
  try {
    run();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // Only the limit errors the tracker raises; they still propagate unchanged.
    if (message.includes("This is a Convex limit")) {
      limitErrors.push(`${record?.fn ?? "?"}: ${message}`);
      if (record !== undefined) record.limitError = message;
    }
    throw e;
  }
}

/** Patches TransactionMetricsTracker's prototype once; every tracker convex-test creates is counted. */
export function installTracking(): void {
  if (installed) return;
  installed = true;
  const proto = TransactionMetricsTracker.prototype;
  if (!Array.isArray((new TransactionMetricsTracker(false) as unknown as TrackerInternals)._layers)) {
    throw new Error("convex-test's TransactionMetricsTracker changed shape (no _layers); update docks/bench/instrument.ts");
  }
  const start = proto.startTransaction;
  const commit = proto.commit;
  const rollback = proto.rollback;
  const trackRead = proto.trackRead;
  const trackWrite = proto.trackWrite;
  const trackIndexRange = proto.trackIndexRange;
  const trackScheduledFunction = proto.trackScheduledFunction;

  proto.startTransaction = function (this: Tracker, limits) {
    if (depth(this) === 0) {
      const record: TxRecord = {
        fn: "(framework)",
        kind: "other",
        inSync: false,
        reads: 0,
        writes: 0,
        bytesRead: 0,
        bytesWritten: 0,
        committed: false,
        totalsWrites: 0,
        dockWrites: 0,
        // The start time until end() turns it into the duration.
        ms: performance.now(),
      };
      byTracker.set(this, record);
      current = record;
    }
    start.call(this, limits);
  };
  const end = (tracker: Tracker, committed: boolean) => {
    const record = byTracker.get(tracker);
    if (record === undefined) return;
    record.committed = committed;
    record.ms = performance.now() - record.ms;
    finished.push(record);
    byTracker.delete(tracker);
    if (current === record) current = null;
  };
  proto.commit = function (this: Tracker) {
    const root = depth(this) === 1;
    commit.call(this);
    if (root) end(this, true);
  };
  proto.rollback = function (this: Tracker) {
    const root = depth(this) === 1;
    rollback.call(this);
    if (root) end(this, false);
  };
  proto.trackRead = function (this: Tracker, size: number) {
    const record = byTracker.get(this);
    if (record !== undefined) {
      record.reads++;
      record.bytesRead += size;
    }
    guarded(record, () => trackRead.call(this, size));
  };
  proto.trackWrite = function (this: Tracker, size: number) {
    const record = byTracker.get(this);
    if (record !== undefined) {
      record.writes++;
      record.bytesWritten += size;
    }
    guarded(record, () => trackWrite.call(this, size));
  };
  proto.trackIndexRange = function (this: Tracker) {
    guarded(byTracker.get(this), () => trackIndexRange.call(this));
  };
  proto.trackScheduledFunction = function (this: Tracker, size: number) {
    guarded(byTracker.get(this), () => trackScheduledFunction.call(this, size));
  };
}

/** Transactions finished since the last call, oldest first. */
export function takeRecords(): TxRecord[] {
  return finished.splice(0, finished.length);
}

/** Limit errors raised since the last call. */
export function takeLimitErrors(): string[] {
  return limitErrors.splice(0, limitErrors.length);
}

export type ActionRun = { fn: string; ms: number; error?: string };
let actionWaiters: { fn: string; resolve: (run: ActionRun) => void }[] = [];

/** Runs `run` as part of the sync action: what it starts is labelled as the sync's. */
export function inSyncScope<T>(run: () => Promise<T>): Promise<T> {
  return syncScope.run(true, run);
}

/** Resolves when the next run of the sync action ends (register before starting it). */
export function nextSyncRun(): Promise<ActionRun> {
  return new Promise((resolve) => actionWaiters.push({ fn: SYNC_ACTION, resolve }));
}

function actionEnded(run: ActionRun): void {
  const waiting = actionWaiters.filter((w) => w.fn === run.fn);
  actionWaiters = actionWaiters.filter((w) => w.fn !== run.fn);
  for (const w of waiting) w.resolve(run);
}

type Handler = (ctx: unknown, args: unknown) => unknown;
type Registered = {
  isQuery?: boolean;
  isMutation?: boolean;
  isAction?: boolean;
  _handler?: Handler;
};

function isRegistered(value: unknown): value is Registered & Record<string, unknown> {
  if ((typeof value !== "function" && typeof value !== "object") || value === null) return false;
  const v = value as Registered;
  return typeof v._handler === "function" && (v.isQuery === true || v.isMutation === true || v.isAction === true);
}

// convex-test calls `func._handler` (after checking isQuery/isMutation/isAction
// and reading exportArgs/exportReturns), so a copy of the registered function
// with a wrapped _handler runs exactly like the original.
// `replace` swaps the handler of one action (the sync action run in a heap-capped worker).
function wrap(fn: string, func: Registered & Record<string, unknown>, replace?: Replacement): Registered {
  const handler = replace?.fn === fn ? replace.handler : func._handler!;
  if (func.isAction === true) {
    const timed: Handler = async (ctx, args) => {
      const started = performance.now();
      let error: string | undefined;
      try {
        // The sync action's nested runQuery/runMutation inherit this scope.
        return fn === SYNC_ACTION ? await syncScope.run(true, () => handler(ctx, args)) : await handler(ctx, args);
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
        throw e;
      } finally {
        actionEnded({ fn, ms: performance.now() - started, error });
      }
    };
    return { ...func, _handler: timed };
  }
  const kind: TxKind = func.isQuery === true ? "query" : "mutation";
  const labelled: Handler = (ctx, args) => {
    // Label the top-level transaction only; a nested call belongs to its caller.
    if (current !== null && current.fn === "(framework)") {
      current.fn = fn;
      current.kind = kind;
      current.inSync = syncScope.getStore() === true;
    }
    return handler(kind === "mutation" ? countingTotals(ctx) : ctx, args);
  };
  return { ...func, _handler: labelled };
}

const WRITES = new Set(["insert", "patch", "replace", "delete"]);

// The mutation's ctx with its db counting writes to storageTotals, so the
// sync's rows and its totals upkeep are reported apart.
function countingTotals(ctx: unknown): unknown {
  const c = ctx as { db: Record<string | symbol, unknown> };
  const db = new Proxy(c.db, {
    get(target, prop) {
      const value = target[prop];
      if (typeof value !== "function") return value;
      const method = value as (...a: unknown[]) => unknown;
      if (!WRITES.has(String(prop))) return method.bind(target);
      return (...a: unknown[]) => {
        if (a[0] === "storageTotals" && current !== null) current.totalsWrites++;
        if (a[0] === "docks" && current !== null) current.dockWrites++;
        return method.apply(target, a);
      };
    },
  });
  return { ...c, db };
}

export type Replacement = { fn: string; handler: Handler };

/** convexModules() with every registered Convex function wrapped for labelling and timing. */
export function instrumentedModules(replace?: Replacement): Record<string, () => Promise<unknown>> {
  const modules = convexModules();
  return Object.fromEntries(
    Object.entries(modules).map(([path, load]) => {
      const modulePath = relative(CONVEX_DIR, path).replace(/\\/g, "/").replace(/\.(ts|js)$/, "");
      const loader = async () => {
        const mod = (await load()) as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (const [name, value] of Object.entries(mod)) {
          out[name] = isRegistered(value) ? wrap(`${modulePath}:${name}`, value, replace) : value;
        }
        return out;
      };
      return [path, loader];
    }),
  );
}
