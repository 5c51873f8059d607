// The minute cron heals docks older than the totals in the same transaction
// that starts every due sync: what a few old docks with many groups do to it.
import { describe, expect, test } from "vitest";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { storedAmounts, zeroAmounts } from "../resources/totals";
import { newTest, seedDock, seedOrg } from "../test.setup";

describe("the cron with old docks to heal", () => {
  test("five old docks of 4,000 groups each do not stop the due syncs of every other dock", { timeout: 300_000 }, async () => {
    const t = newTest({ limits: true });
    const orgId = await seedOrg(t);
    // A dock that is due: the cron must start its sync.
    const due = await seedDock(t, orgId, "vultr", "token-due", { nextSyncAt: 0 });
    // Docks older than the totals (storageTotalsBuiltAt absent) whose syncs
    // since the push wrote totals for the regions a hostile provider named.
    for (let d = 0; d < 5; d++) {
      const dockId: Id<"docks"> = await seedDock(t, orgId, "vultr", `token-${d}`, {
        storageTotalsBuiltAt: undefined,
        nextSyncAt: Number.MAX_SAFE_INTEGER,
      });
      for (let b = 0; b < 4000; b += 1000) {
        await t.run(async (ctx) => {
          for (let i = b; i < b + 1000; i++) {
            await ctx.db.insert("storageTotals", {
              orgId, dockId, provider: "vultr", type: "blockVolumes", region: `r${i}`, ...storedAmounts(zeroAmounts()), count: "1",
            });
          }
        });
      }
    }
    const outcome = await t.mutation(internal.docks.cron.syncDueDocks, {}).then(
      (r) => `started ${r.started}`,
      (e: Error) => `failed: ${e.message.slice(0, 120)}`,
    );
    expect(outcome).toBe("started 1");
    expect((await t.run((ctx) => ctx.db.get("docks", due)))!.syncState).toBe("syncing");
  });
});
