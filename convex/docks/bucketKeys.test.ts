// Linode buckets are keyed region/label; an answer with only the deprecated
// cluster is placed in the cluster's region, so the key survives region appearing.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Emulator } from "../../docks/emulator/server";
import { newTest, rowsOf, seedDock, seedMember, seedOrg, startTestEmulator, syncNow } from "../test.setup";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(() => emulator.close());

describe("Linode bucket keys", () => {
  test("a bucket first answered with only its cluster keeps its row and project link when the answer gains its region", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "member");
    const account = emulator.accounts.linode;
    const dockId = await seedDock(t, orgId, "linode", account.token);
    const bucket = account.buckets[0];
    const { region: _region, ...clusterOnly } = bucket;
    emulator.setAccount("linode", { ...account, buckets: [clusterOnly] });
    await syncNow(t, as, dockId);
    const [row] = await rowsOf(t, "buckets", dockId);
    const link = await t.run(async (ctx) => {
      const projectId = await ctx.db.insert("projects", { orgId, name: "Media" });
      return await ctx.db.insert("projectResources", { orgId, projectId, resourceTable: "buckets", resourceId: row._id });
    });

    // The same bucket, now answered with region as well as cluster.
    emulator.setAccount("linode", { ...account, buckets: [bucket] });
    await syncNow(t, as, dockId);
    await syncNow(t, as, dockId);

    const rows = await rowsOf(t, "buckets", dockId);
    expect(rows).toHaveLength(1);
    const kept = await t.run((ctx) => ctx.db.get("projectResources", link));
    expect(kept?.resourceId).toBe(rows[0]._id);
  });
});
