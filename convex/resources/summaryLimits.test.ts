// getStorageSummary against a real deployment's limits: an org at
// MAX_DOCKS_PER_ORG whose docks span every region, and an answer of more
// regions than a Convex array may hold.
import { describe, expect, test } from "vitest";
import type { Id } from "../_generated/dataModel";
import { api } from "../_generated/api";
import { MAX_DOCKS_PER_ORG } from "../docks/mutations";
import { newTest, seedDock, seedMember, seedOrg } from "../test.setup";
import { storedAmounts, zeroAmounts } from "./totals";

describe("getStorageSummary at scale", () => {
  test("an org at MAX_DOCKS_PER_ORG whose docks span 33 regions answers, or refuses with a code", { timeout: 300_000 }, async () => {
    const t = newTest({ limits: true });
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "viewer");
    // 500 docks x 2 types x 33 regions = 33,000 totals documents: every
    // region of Vultr, volumes and buckets in each, for each dock.
    const regions = Array.from({ length: 33 }, (_, i) => `region-${i}`);
    for (let d = 0; d < MAX_DOCKS_PER_ORG; d += 50) {
      await t.run(async (ctx) => {
        for (let k = d; k < d + 50; k++) {
          const dockId: Id<"docks"> = await ctx.db.insert("docks", {
            orgId,
            name: `dock ${k}`,
            provider: "vultr",
            encryptedApiKey: new ArrayBuffer(8),
            syncState: "idle",
            storageTotalsBuiltAt: 0,
          });
          for (const region of regions) {
            for (const type of ["blockVolumes", "buckets"] as const) {
              await ctx.db.insert("storageTotals", {
                orgId,
                dockId,
                provider: "vultr",
                type,
                region,
                ...storedAmounts(zeroAmounts()),
                count: "1",
              });
            }
          }
        }
      });
    }
    const outcome = await as.query(api.resources.summary.getStorageSummary, { orgId }).then(
      (s) => `answered ${s.blockVolumes.total.count}`,
      (e: Error) => (/TOO_MANY|LIMIT/.test(JSON.stringify((e as { data?: unknown }).data ?? "")) ? "refused with a code" : `crashed: ${e.message.slice(0, 200)}`),
    );
    expect(["answered 16500", "refused with a code"]).toContain(outcome);
  });

  test("a dock whose provider named 8,193 regions is refused with a code, never an answer past 8,192 elements", { timeout: 300_000 }, async () => {
    const t = newTest({ limits: true });
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "viewer");
    const dockId = await seedDock(t, orgId, "vultr", "v".repeat(36));
    for (let b = 0; b < 8193; b += 1000) {
      await t.run(async (ctx) => {
        for (let i = b; i < Math.min(b + 1000, 8193); i++) {
          await ctx.db.insert("storageTotals", {
            orgId,
            dockId,
            provider: "vultr",
            type: "blockVolumes",
            region: `r${i}`,
            ...storedAmounts(zeroAmounts()),
            count: "1",
          });
        }
      });
    }
    for (const args of [{ orgId }, { dockId }, {}]) {
      const outcome = await as.query(api.resources.summary.getStorageSummary, args).then(
        (s) => `answered ${s.blockVolumes.byRegion.length} regions`,
        (e: Error) => ((e as { data?: { code?: string } }).data?.code ?? `crashed: ${e.message.slice(0, 120)}`),
      );
      expect(outcome).toBe("TOO_MANY_ROWS");
    }
  });
});
