// Deleting a dock whose rows are large: the purge batch's reads.
import { describe, expect, test } from "vitest";
import { api } from "../_generated/api";
import { newTest, seedDock, seedMember, seedOrg } from "../test.setup";

describe("deleting a dock", () => {
  test("a DigitalOcean dock of 600 volumes of 40 KB is purged whole, within the read limit", async () => {
    const t = newTest({ limits: true });
    const orgId = await seedOrg(t);
    const { as: admin } = await seedMember(t, orgId, "admin");
    const dockId = await seedDock(t, orgId, "digitalocean", "d".repeat(71));
    // Rows as a sync stores DigitalOcean volumes of 40 KB (200 a page is
    // 8 MB, inside the client's body cap; each item inside its 64 KiB budget).
    const notes = Object.fromEntries(Array.from({ length: 10 }, (_, n) => [`note_${n}`, "n".repeat(4000)]));
    for (let batch = 0; batch < 6; batch++) {
      await t.run(async (ctx) => {
        for (let i = 0; i < 100; i++) {
          await ctx.db.insert("blockVolumes", {
            orgId,
            dockId,
            provider: "digitalocean",
            providerResourceId: `vol-${batch}-${i}`,
            name: "volume",
            sizeGb: 10,
            region: "nyc1",
            status: "active",
            updatedAt: 0,
            fullApiData: { volume: { id: `vol-${batch}-${i}`, ...notes } },
          });
        }
      });
    }
    await admin.mutation(api.docks.mutations.deleteDock, { dockId });
    await t.finishAllScheduledFunctions(() => undefined).catch(() => undefined);

    expect(await t.run((ctx) => ctx.db.get("docks", dockId))).toBeNull();
    const page = await admin.query(api.resources.queries.paginateBlockVolumes, {
      orgId,
      paginationOpts: { cursor: null, numItems: 10 },
    });
    expect(page.page).toHaveLength(0);
  });
});
