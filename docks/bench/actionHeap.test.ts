// The heap worker of the benchmark: an action runs in a worker thread capped
// like a Convex isolate, its ctx calls reach the main thread by function name,
// and running out of memory is reported instead of passing unnoticed.
import { fileURLToPath } from "node:url";
import { ConvexError } from "convex/values";
import { getFunctionName, type FunctionReference } from "convex/server";
import { describe, expect, it } from "vitest";
import { ActionWorkerHost, type Ctx } from "./actionHeap";

const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));

type Call = { op: string; name: string; args: unknown; delayMs?: number };

function fakeCtx(calls: Call[]): Ctx {
  const name = (ref: unknown) => getFunctionName(ref as FunctionReference<"query">);
  return {
    runQuery: async (ref, args) => {
      calls.push({ op: "runQuery", name: name(ref), args });
      return (args as { n: number }).n * 2;
    },
    runMutation: async (ref, args) => {
      calls.push({ op: "runMutation", name: name(ref), args });
      if (name(ref) === "tables:refuse") throw new ConvexError({ code: "LEASE_LOST", message: "another sync owns the dock" });
      return "stored";
    },
    runAction: async (ref, args) => {
      calls.push({ op: "runAction", name: name(ref), args });
      return null;
    },
    scheduler: {
      runAfter: async (delayMs, ref, args) => {
        calls.push({ op: "runAfter", name: name(ref), args, delayMs });
        return "scheduled-1";
      },
      runAt: async () => "scheduled-2",
      cancel: async () => null,
    },
  };
}

describe("ActionWorkerHost", () => {
  it("forwards the action's queries, mutations and scheduling by name and returns its result", async () => {
    process.env.HEAP_FIXTURE_KEY = "from-the-main-thread";
    const host = new ActionWorkerHost("heapActions:roundTrip", { dir: FIXTURES });
    const calls: Call[] = [];
    const result = await host.run(fakeCtx(calls), { n: 21 });
    expect(result).toEqual({ doubled: 42, stored: "stored", scheduled: "scheduled-1", key: "from-the-main-thread" });
    expect(calls).toEqual([
      { op: "runQuery", name: "tables:double", args: { n: 21 } },
      { op: "runMutation", name: "tables:store", args: { value: 42 } },
      { op: "runAfter", name: "tables:later", args: { n: 21 }, delayMs: 5 },
    ]);
    const [run] = host.take();
    expect(run.capped.oom).toBe(false);
    expect(run.uncapped).toBeUndefined();
    expect(run.capped.figures!.baselineBytes).toBeGreaterThan(0);
    expect(run.capped.figures!.peakUsedBytes).toBeGreaterThanOrEqual(run.capped.figures!.baselineBytes);
  });

  it("hands a ConvexError from the backend to the action with its code, and the action's failure back", async () => {
    const host = new ActionWorkerHost("heapActions:passesOnError", { dir: FIXTURES });
    const error = await host.run(fakeCtx([]), {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConvexError);
    expect((error as ConvexError<{ code: string }>).data.code).toBe("LEASE_LOST");
  });

  it("counts what the action holds in its peak heap", async () => {
    const host = new ActionWorkerHost("heapActions:holds", { dir: FIXTURES });
    await host.run(fakeCtx([]), { mib: 20 });
    const f = host.take()[0].capped.figures!;
    expect(f.peakUsedBytes - f.baselineBytes).toBeGreaterThan(15 * 1024 * 1024);
  });

  it("reports running out of memory under the cap, and how much an uncapped run needed", async () => {
    const host = new ActionWorkerHost("heapActions:holds", { dir: FIXTURES, capMib: 32, uncappedMib: 256 });
    const result = await host.run(fakeCtx([]), { mib: 48 });
    expect(typeof result).toBe("number");
    const [run] = host.take();
    expect(run.capped.oom).toBe(true);
    // One synchronous burst gives the sampler no turn: the figures come from the uncapped run.
    expect(run.capped.figures).toBeUndefined();
    expect(run.uncapped!.oom).toBe(false);
    expect(run.uncapped!.figures!.peakUsedBytes).toBeGreaterThan(40 * 1024 * 1024);
  });
});
