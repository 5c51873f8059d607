// getStorageSummary against a real deployment's limits: an org at
// MAX_DOCKS_PER_ORG whose docks span every region, and an answer of more
// regions than a Convex array may hold.
import { describe, expect, test } from "vitest";
import type { Id } from "../_generated/dataModel";
import { api } from "../_generated/api";
import { MAX_DOCKS_PER_ORG } from "../docks/mutations";
import { newTest, seedMember, seedOrg } from "../test.setup";
import { summarize } from "./summary";
import { zeroAmounts } from "./totals";

const docOf = (orgId: string, dockId: string, region: string, type: "blockVolumes" | "buckets") =>
  ({
    _id: `${dockId}-${type}-${region}`,
    _creationTime: 1,
    orgId,
    dockId,
    provider: "vultr",
    type,
    region,
    ...zeroAmounts(),
    count: 1,
  }) as never;

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
                ...zeroAmounts(),
                count: 1,
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

  test("an answer never holds more regions than a Convex array may (8,192)", () => {
    // One dock of a hostile provider naming a region per volume, or two docks
    // of the 4,100 regions that totals.ts calls a bug: 8,193 groups.
    const docs = Array.from({ length: 8193 }, (_, i) => docOf("org", `dock${i % 2}`, `r${i}`, "blockVolumes"));
    const answer = summarize(docs, []);
    expect(answer.blockVolumes.byRegion.length).toBeLessThanOrEqual(8192);
  });
});
