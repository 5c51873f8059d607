// Docks older than the storage totals (storageTotalsBuiltAt absent): the
// cron's healing takes the first UNBUILT_BATCH of them by the index, so what
// it skips there must not keep the others from healing.
import { describe, expect, test } from "vitest";
import { internal } from "../_generated/api";
import { newTest, seedDock, seedOrg } from "../test.setup";
import { UNBUILT_BATCH } from "./totals";

describe("healing docks whose totals were never built", () => {
  test("an old dock behind UNBUILT_BATCH old docks being removed still starts its rebuild", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    // An org removing many old docks: their purges take their time.
    for (let i = 0; i < UNBUILT_BATCH; i++) {
      await seedDock(t, orgId, "vultr", `token-${i}`, { storageTotalsBuiltAt: undefined, deletingAt: 1 });
    }
    const old = await seedDock(t, orgId, "vultr", "token-old", { storageTotalsBuiltAt: undefined });
    const started = await t.mutation(internal.resources.totals.rebuildUnbuiltStorageTotals, {});
    const rebuilding = await t.run((ctx) =>
      ctx.db
        .query("storageTotalsRebuilds")
        .withIndex("by_dock_type", (q) => q.eq("dockId", old))
        .first(),
    );
    expect({ started, rebuilding: rebuilding !== null }).toEqual({ started: 1, rebuilding: true });
  });
});
