// The sync action in a worker whose V8 heap is capped at Convex's 64 MiB (the
// benchmark's ActionWorkerHost), against a provider whose pages are each just
// under the client's 8 MiB body cap.
import { convexTest } from "convex-test";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { ActionWorkerHost } from "../bench/actionHeap";
import { instrumentedModules, SYNC_ACTION } from "../bench/instrument";
import { startEmulator, type Emulator } from "../emulator/server";
import schema from "../../convex/schema";
import { seedDock, seedMember, seedOrg, syncNow, useEmulator, type TestConvex } from "../../convex/test.setup";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startEmulator();
  useEmulator(emulator);
});
afterEach(() => emulator.close());

describe("the sync action's memory", () => {
  test("DigitalOcean pages of 200 volumes of 39 KB each (under the 8 MiB body cap) sync within the action's 64 MiB", async () => {
    const account = emulator.accounts.digitalocean;
    // 1,400 volumes: 7 pages, so 6 can be in flight while one is written.
    const volumes = Array.from({ length: 1400 }, (_, i) => ({
      ...account.volumes[0],
      id: `vol-${String(i).padStart(5, "0")}`,
      droplet_ids: [],
      ...Object.fromEntries(Array.from({ length: 9 }, (_, n) => [`note_${n}`, `${i}-${n}-`.padEnd(4000, "z")])),
    }));
    emulator.setAccount("digitalocean", { ...account, servers: [], volumes });

    const host = new ActionWorkerHost(SYNC_ACTION);
    const modules = instrumentedModules({
      fn: SYNC_ACTION,
      handler: (ctx, args) => host.run(ctx as Parameters<ActionWorkerHost["run"]>[0], args),
    });
    const t = convexTest({ schema, modules }) as unknown as TestConvex;
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "member");
    const dockId = await seedDock(t, orgId, "digitalocean", account.token);
    await syncNow(t, as, dockId);

    const [run] = host.take();
    expect(run.capped.oom).toBe(false);
  });
});
