// The test world holds every written document to Convex's limits: these
// prove the hook in test.setup.ts refuses what a deployment would refuse.
import { describe, expect, test } from "vitest";
import { newTest, seedDock, seedOrg, takeDocumentLimitViolations } from "./test.setup";

const MIB = 1024 * 1024;

describe("the test world refuses documents a Convex deployment refuses", () => {
  test("an insert over 1 MiB fails the writing function and is recorded", async () => {
    const t = newTest();
    await expect(t.run((ctx) => ctx.db.insert("organizations", { name: "x".repeat(MIB) }))).rejects.toThrow(
      /organizations document breaks Convex's limits: \(root\): document of about/,
    );
    expect(takeDocumentLimitViolations()).toHaveLength(1);
    expect(await t.run((ctx) => ctx.db.query("organizations").collect())).toEqual([]);
  });

  test("a document nested past 16 levels, a lone surrogate or a long top-level name is refused", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const dockId = await seedDock(t, orgId, "vultr", "token");
    let deep: unknown = 1;
    for (let i = 0; i < 20; i++) deep = { a: deep };
    const row = { orgId, dockId, provider: "vultr" as const, providerResourceId: "r", name: "n", status: "ok", updatedAt: 0 };
    await expect(t.run((ctx) => ctx.db.insert("servers", { ...row, fullApiData: { deep } }))).rejects.toThrow(/nested 17 deep/);
    await expect(t.run((ctx) => ctx.db.insert("servers", { ...row, name: "a\uD800", fullApiData: {} }))).rejects.toThrow(
      /name: string with a lone surrogate/,
    );
    expect(takeDocumentLimitViolations()).toHaveLength(2);
  });

  test("a patch is checked as the whole document it makes", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const dockId = await seedDock(t, orgId, "vultr", "token");
    const id = await t.run((ctx) =>
      ctx.db.insert("servers", {
        orgId,
        dockId,
        provider: "vultr",
        providerResourceId: "r",
        name: "n",
        status: "ok",
        updatedAt: 0,
        fullApiData: { blob: "b".repeat(0.6 * MIB) },
      }),
    );
    // Each half is fine on its own; together they are over 1 MiB.
    await expect(t.run((ctx) => ctx.db.patch("servers", id, { name: "n".repeat(0.6 * MIB) }))).rejects.toThrow(
      /servers document breaks Convex's limits/,
    );
    expect(takeDocumentLimitViolations()).toHaveLength(1);
    await t.run((ctx) => ctx.db.patch("servers", id, { name: "n".repeat(0.3 * MIB) }));
  });

  test("a violation the code under test swallows is still recorded, to fail the test afterwards", async () => {
    const t = newTest();
    await t.run(async (ctx) => {
      try {
        await ctx.db.insert("organizations", { name: "y".repeat(MIB + 1) });
      } catch {
        // Swallowed, as a sync that records a failed write would.
      }
    });
    expect(takeDocumentLimitViolations()).toEqual([expect.stringMatching(/organizations document breaks/)]);
  });
});
