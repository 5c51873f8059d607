import { describe, expect, test } from "vitest";
import { api } from "./_generated/api";
import { newTest, seedMember, seedOrg } from "./test.setup";

describe("organizations", () => {
  test("the creator of an organization is its owner and can see it", async () => {
    const t = newTest();
    const as = t.withIdentity({ tokenIdentifier: "https://auth.test|founder", name: "Founder" });
    const userId = await as.mutation(api.users.storeUser, {});
    const orgId = await as.mutation(api.organizations.createOrganization, { name: "  Acme  " });
    const membership = await t.run((ctx) =>
      ctx.db.query("memberships").withIndex("by_org_user", (q) => q.eq("orgId", orgId).eq("userId", userId)).unique(),
    );
    expect(membership?.role).toBe("owner");
    expect((await t.run((ctx) => ctx.db.get("organizations", orgId)))?.name).toBe("Acme");
  });

  test("storing the same identity twice keeps one user", async () => {
    const t = newTest();
    const as = t.withIdentity({ tokenIdentifier: "https://auth.test|same", name: "A", email: "a@x.test" });
    const first = await as.mutation(api.users.storeUser, {});
    const second = await as.mutation(api.users.storeUser, {});
    expect(second).toBe(first);
    expect((await t.run((ctx) => ctx.db.query("users").collect())).length).toBe(1);
  });

  test("an admin adds members but cannot make owners; an owner can", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: owner } = await seedMember(t, orgId, "owner");
    const { as: admin } = await seedMember(t, orgId, "admin");
    const { userId: newcomer } = await seedMember(t, null);
    await admin.mutation(api.organizations.setMemberRole, { orgId, userId: newcomer, role: "viewer" });
    await expect(
      admin.mutation(api.organizations.setMemberRole, { orgId, userId: newcomer, role: "owner" }),
    ).rejects.toThrow(/FORBIDDEN/);
    await owner.mutation(api.organizations.setMemberRole, { orgId, userId: newcomer, role: "owner" });
    const roles = await t.run(async (ctx) =>
      (await ctx.db.query("memberships").withIndex("by_orgId", (q) => q.eq("orgId", orgId)).collect()).map((m) => m.role),
    );
    expect(roles.sort()).toEqual(["admin", "owner", "owner"]);
  });

  test("the last owner cannot be demoted", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: owner, userId } = await seedMember(t, orgId, "owner");
    await expect(owner.mutation(api.organizations.setMemberRole, { orgId, userId, role: "admin" })).rejects.toThrow(
      /at least one owner/,
    );
  });
});
