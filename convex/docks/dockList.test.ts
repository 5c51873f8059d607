// The dock list: what an answer holds as docks and orgs grow.
import { describe, expect, test } from "vitest";
import { api, internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { newTest, seedDock, seedMember, seedOrg, type TestConvex } from "../test.setup";

async function addDocks(t: TestConvex, orgId: Id<"organizations">, n: number) {
  const first = await seedDock(t, orgId, "vultr", "V".repeat(36));
  const key = (await t.run((ctx) => ctx.db.get("docks", first)))!.encryptedApiKey;
  await t.run(async (ctx) => {
    for (let i = 1; i < n; i++) {
      await ctx.db.insert("docks", { orgId, name: `dock ${i}`, provider: "vultr", encryptedApiKey: key, syncState: "idle" });
    }
  });
}

describe("listDocks", () => {
  test("an org's 501st dock is refused at creation (LIMIT_REACHED), so every dock an org has is in its list", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "admin");
    await addDocks(t, orgId, 501);
    const docks = await as.query(api.docks.queries.listDocks, { orgId });
    expect(docks.length).toBe(501);
  });

  test("a user in 17 orgs of 500 docks gets TOO_MANY_ROWS without orgId, never an answer past Convex's 8,192 elements", async () => {
    const t = newTest();
    const orgIds: Id<"organizations">[] = [];
    for (let i = 0; i < 17; i++) orgIds.push(await seedOrg(t, `Org ${i}`));
    const { as, userId } = await seedMember(t, orgIds[0], "viewer");
    await t.run(async (ctx) => {
      for (const orgId of orgIds.slice(1)) await ctx.db.insert("memberships", { orgId, userId, role: "viewer" });
    });
    for (const orgId of orgIds) await addDocks(t, orgId, 500);
    // A full answer a deployment can send, or an error that says to narrow it.
    const outcome = await as.query(api.docks.queries.listDocks, {}).then(
      (docks) => docks.length,
      () => "refused",
    );
    expect(outcome === "refused" || (typeof outcome === "number" && outcome <= 8192)).toBe(true);
  });

  test("a user in 9 orgs of 500 syncing docks still gets the dock list within 4,096 index ranges", async () => {
    const t = newTest({ limits: true });
    const orgIds: Id<"organizations">[] = [];
    for (let i = 0; i < 9; i++) orgIds.push(await seedOrg(t, `Org ${i}`));
    const { as, userId } = await seedMember(t, orgIds[0], "viewer");
    const first = await seedDock(t, orgIds[0], "vultr", "V".repeat(36));
    const key = (await t.run((ctx) => ctx.db.get("docks", first)))!.encryptedApiKey;
    // A job id as startSync stores it (the cron starts up to 100 docks a batch).
    const syncJobId = await t.run((ctx) => ctx.scheduler.runAfter(3_600_000, internal.docks.cron.syncDueDocks, {}));
    for (const orgId of orgIds) {
      await t.run(async (ctx) => {
        if (orgId !== orgIds[0]) await ctx.db.insert("memberships", { orgId, userId, role: "viewer" });
        for (let i = 0; i < 500; i++) {
          await ctx.db.insert("docks", {
            orgId,
            name: `dock ${i}`,
            provider: "vultr",
            encryptedApiKey: key,
            syncState: "syncing",
            syncLeaseId: `lease-${i}`,
            syncStartedAt: Date.now(),
            syncJobId,
          });
        }
      });
    }
    const outcome = await as.query(api.docks.queries.listDocks, {}).then(
      (docks) => `${docks.length} docks`,
      (e: unknown) => String((e as Error).message).slice(0, 60),
    );
    expect(outcome).toBe("4501 docks");
  });
});

describe("getDock", () => {
  test.each(["viewer", "member", "admin"] as const)(
    "a %s sees the dock exactly as its entry in listDocks, fixed error texts for viewers included",
    async (role) => {
      const t = newTest();
      const orgId = await seedOrg(t);
      const { as } = await seedMember(t, orgId, role);
      const dockId = await seedDock(t, orgId, "linode", "L".repeat(64));
      await t.run((ctx) =>
        ctx.db.patch("docks", dockId, {
          lastSyncStatus: "error",
          lastSyncAt: 1,
          lastSyncError: "Linode said: token L...L is not authorized",
          lastSyncErrorCode: "INVALID_CREDENTIALS",
        }),
      );
      const [listed] = await as.query(api.docks.queries.listDocks, { orgId });
      const one = await as.query(api.docks.queries.getDock, { dockId });
      expect(one).toEqual(listed);
      expect(one?.lastSyncError?.includes("Linode said")).toBe(role !== "viewer");
    },
  );

  test("a sync whose action is gone shows as died on the dock's page too", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "member");
    const dockId = await seedDock(t, orgId, "vultr", "V".repeat(36));
    // The sync's job was canceled before it recorded an outcome.
    await t.run(async (ctx) => {
      const syncJobId = await ctx.scheduler.runAfter(3_600_000, internal.docks.cron.syncDueDocks, {});
      await ctx.scheduler.cancel(syncJobId);
      await ctx.db.patch("docks", dockId, { syncState: "syncing", syncLeaseId: "lease", syncStartedAt: 1, syncJobId });
    });
    const dock = await as.query(api.docks.queries.getDock, { dockId });
    expect(dock?.syncState).toBe("idle");
    expect(dock?.lastSyncErrorCode).toBe("SYNC_DIED");
  });
});
