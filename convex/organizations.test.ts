import { describe, expect, test } from "vitest";
import { api } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { MAX_ORGS_PER_USER } from "./lib/auth";
import { LIST_MAX_ROWS } from "./lib/boundedLists";
import { newTest, seedDock, seedMember, seedOrg } from "./test.setup";

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

/** The roles in `orgId`, by user id. */
async function rolesIn(t: ReturnType<typeof newTest>, orgId: Id<"organizations">) {
  const members = await t.run((ctx) =>
    ctx.db.query("memberships").withIndex("by_orgId", (q) => q.eq("orgId", orgId)).collect(),
  );
  return Object.fromEntries(members.map((m) => [m.userId, m.role]));
}

/** The ConvexError code and message of a refused call. */
async function refusal(call: Promise<unknown>): Promise<{ code?: string; message?: string }> {
  try {
    await call;
  } catch (e) {
    return (e as { data?: { code?: string; message?: string } }).data ?? { message: String(e) };
  }
  throw new Error("the call was not refused");
}

describe("leaving and removing members", () => {
  test("a member leaves an organization and no longer sees its docks or rows", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    await seedMember(t, orgId, "owner");
    const { as, userId } = await seedMember(t, orgId, "member");
    const dockId = await seedDock(t, orgId, "vultr", "V".repeat(36));
    await t.run((ctx) =>
      ctx.db.insert("blockVolumes", {
        orgId,
        dockId,
        provider: "vultr",
        providerResourceId: "vol-1",
        name: "vol-1",
        status: "active",
        sizeGb: 10,
        region: "ewr",
        fullApiData: {},
        updatedAt: 0,
      }),
    );
    expect(await as.query(api.docks.queries.listDocks, {})).toHaveLength(1);
    expect(await as.query(api.resources.queries.listBlockVolumes, {})).toHaveLength(1);

    await as.mutation(api.organizations.leaveOrganization, { orgId });
    expect((await rolesIn(t, orgId))[userId]).toBeUndefined();
    expect(await as.query(api.docks.queries.listDocks, {})).toEqual([]);
    expect(await as.query(api.docks.queries.listDocks, { orgId })).toEqual([]);
    expect(await as.query(api.resources.queries.listBlockVolumes, {})).toEqual([]);
    expect(await refusal(as.mutation(api.docks.mutations.syncDock, { dockId }))).toMatchObject({ code: "NOT_FOUND" });
    // Leaving again: no longer a member, so FORBIDDEN like any outsider.
    expect(await refusal(as.mutation(api.organizations.leaveOrganization, { orgId }))).toMatchObject({
      code: "FORBIDDEN",
    });
  });

  test("the last owner cannot leave and is told to transfer ownership first; with a second owner they can", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: owner, userId: ownerId } = await seedMember(t, orgId, "owner");
    const { userId: adminId } = await seedMember(t, orgId, "admin");
    const refused = await refusal(owner.mutation(api.organizations.leaveOrganization, { orgId }));
    expect(refused.code).toBe("INVALID_ARGUMENT");
    expect(refused.message).toMatch(/last owner/);
    expect(refused.message).toMatch(/[Tt]ransfer ownership first/);
    expect((await rolesIn(t, orgId))[ownerId]).toBe("owner");

    await owner.mutation(api.organizations.setMemberRole, { orgId, userId: adminId, role: "owner" });
    await owner.mutation(api.organizations.leaveOrganization, { orgId });
    expect(await rolesIn(t, orgId)).toEqual({ [adminId]: "owner" });
  });

  test("an admin removes viewers, members and admins, but not an owner", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { userId: ownerId } = await seedMember(t, orgId, "owner");
    const { as: admin, userId: adminId } = await seedMember(t, orgId, "admin");
    const targets = {
      viewer: (await seedMember(t, orgId, "viewer")).userId,
      member: (await seedMember(t, orgId, "member")).userId,
      admin: (await seedMember(t, orgId, "admin")).userId,
    };
    for (const userId of Object.values(targets)) {
      await admin.mutation(api.organizations.removeMember, { orgId, userId });
    }
    expect(await refusal(admin.mutation(api.organizations.removeMember, { orgId, userId: ownerId }))).toMatchObject({
      code: "FORBIDDEN",
    });
    expect(await rolesIn(t, orgId)).toEqual({ [ownerId]: "owner", [adminId]: "admin" });
  });

  test("an owner removes another owner, but never the last one", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: owner, userId: ownerId } = await seedMember(t, orgId, "owner");
    const { userId: secondId } = await seedMember(t, orgId, "owner");
    await owner.mutation(api.organizations.removeMember, { orgId, userId: secondId });
    const refused = await refusal(owner.mutation(api.organizations.removeMember, { orgId, userId: ownerId }));
    expect(refused.code).toBe("INVALID_ARGUMENT");
    expect(refused.message).toMatch(/last owner/);
    expect(await rolesIn(t, orgId)).toEqual({ [ownerId]: "owner" });
  });

  test("removing a user who is not a member is NOT_FOUND", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: owner } = await seedMember(t, orgId, "owner");
    const { userId: stranger } = await seedMember(t, null);
    expect(await refusal(owner.mutation(api.organizations.removeMember, { orgId, userId: stranger }))).toMatchObject({
      code: "NOT_FOUND",
    });
  });

  test("a removed member can be added again", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: owner } = await seedMember(t, orgId, "owner");
    const { userId } = await seedMember(t, orgId, "admin");
    await owner.mutation(api.organizations.removeMember, { orgId, userId });
    await owner.mutation(api.organizations.setMemberRole, { orgId, userId, role: "viewer" });
    expect((await rolesIn(t, orgId))[userId]).toBe("viewer");
  });
});

describe("organizations per user", () => {
  /** Puts `userId` in `count` fresh orgs directly, as data written before the bound existed would be. */
  async function joinOrgs(t: ReturnType<typeof newTest>, userId: Id<"users">, count: number) {
    return await t.run(async (ctx) => {
      const ids: Id<"organizations">[] = [];
      for (let i = 0; i < count; i++) {
        const orgId = await ctx.db.insert("organizations", { name: `Org ${i}` });
        await ctx.db.insert("memberships", { orgId, userId, role: "viewer" });
        ids.push(orgId);
      }
      return ids;
    });
  }

  test(`no one is added to more than ${MAX_ORGS_PER_USER} organizations: LIMIT_REACHED, nothing written`, async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: owner } = await seedMember(t, orgId, "owner");
    const { userId: victim } = await seedMember(t, null);
    await joinOrgs(t, victim, MAX_ORGS_PER_USER);
    const refused = await refusal(
      owner.mutation(api.organizations.setMemberRole, { orgId, userId: victim, role: "viewer" }),
    );
    expect(refused.code).toBe("LIMIT_REACHED");
    expect(refused.message).toContain(String(MAX_ORGS_PER_USER));
    expect((await rolesIn(t, orgId))[victim]).toBeUndefined();
  });

  test(`a user in ${MAX_ORGS_PER_USER} organizations cannot create another until they leave one`, async () => {
    const t = newTest();
    const { as, userId } = await seedMember(t, null);
    const orgIds = await joinOrgs(t, userId, MAX_ORGS_PER_USER);
    const before = await t.run((ctx) => ctx.db.query("organizations").collect());
    const refused = await refusal(as.mutation(api.organizations.createOrganization, { name: "One more" }));
    expect(refused.code).toBe("LIMIT_REACHED");
    expect(refused.message).toMatch(/[Ll]eave one/);
    expect(await t.run((ctx) => ctx.db.query("organizations").collect())).toEqual(before);

    await as.mutation(api.organizations.leaveOrganization, { orgId: orgIds[0] });
    const created = await as.mutation(api.organizations.createOrganization, { name: "One more" });
    expect((await rolesIn(t, created))[userId]).toBe("owner");
  });

  test("changing the role of someone at the bound still works: only new memberships count", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: owner } = await seedMember(t, orgId, "owner");
    const { userId } = await seedMember(t, orgId, "viewer");
    await joinOrgs(t, userId, MAX_ORGS_PER_USER - 1);
    await owner.mutation(api.organizations.setMemberRole, { orgId, userId, role: "admin" });
    expect((await rolesIn(t, orgId))[userId]).toBe("admin");
  });

  test("lists without orgId show every org a user belongs to, the ones joined last included", async () => {
    const t = newTest();
    const { as, userId } = await seedMember(t, null);
    // More memberships than the bound allows today, as older data may hold.
    const orgIds = await joinOrgs(t, userId, MAX_ORGS_PER_USER + 1);
    const last = orgIds[orgIds.length - 1];
    const dockId = await seedDock(t, last, "linode", "1".repeat(64));
    expect((await as.query(api.docks.queries.listDocks, {})).map((d) => d._id)).toEqual([dockId]);
  });
});

describe("adding members by email", () => {
  test("an admin adds someone who has signed in, whatever the case and spaces of the email typed", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: admin } = await seedMember(t, orgId, "admin");
    const { userId } = await seedMember(t, null, "member", { email: "Ann.Smith@Example.test" });
    const added = await admin.mutation(api.organizations.addMemberByEmail, {
      orgId,
      email: "  ann.smith@EXAMPLE.test ",
      role: "member",
    });
    expect(added).toBe(userId);
    expect((await rolesIn(t, orgId))[userId]).toBe("member");
    // The stored email is left as the person signed in with it.
    expect((await t.run((ctx) => ctx.db.get("users", userId)))?.email).toBe("Ann.Smith@Example.test");
  });

  test("an unknown email is NOT_FOUND and says the person must sign in first; nothing written", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: admin } = await seedMember(t, orgId, "admin");
    const before = await rolesIn(t, orgId);
    const refused = await refusal(
      admin.mutation(api.organizations.addMemberByEmail, { orgId, email: "nobody@example.test", role: "viewer" }),
    );
    expect(refused.code).toBe("NOT_FOUND");
    expect(refused.message).toMatch(/sign in/);
    expect(await rolesIn(t, orgId)).toEqual(before);
  });

  test("an empty email is INVALID_ARGUMENT, even though users without email exist", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: admin } = await seedMember(t, orgId, "admin");
    await seedMember(t, null, "member", { email: "" });
    const refused = await refusal(
      admin.mutation(api.organizations.addMemberByEmail, { orgId, email: "   ", role: "viewer" }),
    );
    expect(refused.code).toBe("INVALID_ARGUMENT");
  });

  test("two accounts with the same email are refused rather than guessed between", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: admin } = await seedMember(t, orgId, "admin");
    await seedMember(t, null, "member", { email: "twin@example.test" });
    await seedMember(t, null, "member", { email: "TWIN@example.test" });
    const before = await rolesIn(t, orgId);
    const refused = await refusal(
      admin.mutation(api.organizations.addMemberByEmail, { orgId, email: "twin@example.test", role: "viewer" }),
    );
    expect(refused.code).toBe("INVALID_ARGUMENT");
    expect(await rolesIn(t, orgId)).toEqual(before);
  });

  test("follows setMemberRole's rules: only owners grant owner, an existing member's role changes", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: owner } = await seedMember(t, orgId, "owner");
    const { as: admin } = await seedMember(t, orgId, "admin");
    const { userId } = await seedMember(t, orgId, "viewer", { email: "v@example.test" });
    const refused = await refusal(
      admin.mutation(api.organizations.addMemberByEmail, { orgId, email: "v@example.test", role: "owner" }),
    );
    expect(refused.code).toBe("FORBIDDEN");
    await admin.mutation(api.organizations.addMemberByEmail, { orgId, email: "v@example.test", role: "admin" });
    expect((await rolesIn(t, orgId))[userId]).toBe("admin");
    await owner.mutation(api.organizations.addMemberByEmail, { orgId, email: "v@example.test", role: "owner" });
    expect((await rolesIn(t, orgId))[userId]).toBe("owner");
  });

  test(`no one is added by email to more than ${MAX_ORGS_PER_USER} organizations: LIMIT_REACHED`, async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: owner } = await seedMember(t, orgId, "owner");
    const { userId } = await seedMember(t, null, "member", { email: "busy@example.test" });
    await t.run(async (ctx) => {
      for (let i = 0; i < MAX_ORGS_PER_USER; i++) {
        const other = await ctx.db.insert("organizations", { name: `Org ${i}` });
        await ctx.db.insert("memberships", { orgId: other, userId, role: "viewer" });
      }
    });
    const refused = await refusal(
      owner.mutation(api.organizations.addMemberByEmail, { orgId, email: "busy@example.test", role: "viewer" }),
    );
    expect(refused.code).toBe("LIMIT_REACHED");
    expect((await rolesIn(t, orgId))[userId]).toBeUndefined();
  });
});

describe("the caller's organizations and an organization's members", () => {
  test("listMine answers each org the caller belongs to with its name and the caller's role, in join order", async () => {
    const t = newTest();
    const first = await seedOrg(t, "First");
    const second = await seedOrg(t, "Second");
    await seedOrg(t, "Not mine");
    const { as, userId } = await seedMember(t, first, "viewer");
    await t.run((ctx) => ctx.db.insert("memberships", { orgId: second, userId, role: "admin" }));
    expect(await as.query(api.organizations.listMine, {})).toEqual([
      { orgId: first, name: "First", role: "viewer" },
      { orgId: second, name: "Second", role: "admin" },
    ]);
  });

  test("listMine is empty for an identity never stored and for a user in no org", async () => {
    const t = newTest();
    const ghost = t.withIdentity({ tokenIdentifier: "https://auth.test|ghost", name: "Ghost" });
    expect(await ghost.query(api.organizations.listMine, {})).toEqual([]);
    const { as } = await seedMember(t, null);
    expect(await as.query(api.organizations.listMine, {})).toEqual([]);
  });

  test("listMembers shows a member every member of the org with name, email and role, in join order", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const other = await seedOrg(t, "Other");
    const owner = await seedMember(t, orgId, "owner", { name: "Olive", email: "olive@example.test" });
    const viewer = await seedMember(t, orgId, "viewer", { name: "Vic", email: "Vic@example.test" });
    const member = await seedMember(t, orgId, "member", { name: "Mo", email: "mo@example.test" });
    await seedMember(t, other, "owner");
    expect(await member.as.query(api.organizations.listMembers, { orgId })).toEqual([
      { userId: owner.userId, name: "Olive", email: "olive@example.test", role: "owner" },
      { userId: viewer.userId, name: "Vic", email: "Vic@example.test", role: "viewer" },
      { userId: member.userId, name: "Mo", email: "mo@example.test", role: "member" },
    ]);
  });

  test("listMembers is empty for viewers and for members of another org", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const other = await seedOrg(t, "Other");
    await seedMember(t, orgId, "owner");
    const { as: viewer } = await seedMember(t, orgId, "viewer");
    const { as: stranger } = await seedMember(t, other, "owner");
    expect(await viewer.query(api.organizations.listMembers, { orgId })).toEqual([]);
    expect(await stranger.query(api.organizations.listMembers, { orgId })).toEqual([]);
  });
});

describe("member list bounds", () => {
  test("an org with more members than one answer holds is refused with TOO_MANY_ROWS, never cut short", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "member");
    await t.run(async (ctx) => {
      for (let i = 0; i < LIST_MAX_ROWS; i++) {
        const userId = await ctx.db.insert("users", { name: `U${i}`, email: `u${i}@x.test`, tokenIdentifier: `t|${i}` });
        await ctx.db.insert("memberships", { orgId, userId, role: "viewer" });
      }
    });
    await expect(as.query(api.organizations.listMembers, { orgId })).rejects.toThrow(/TOO_MANY_ROWS/);
  });
});
