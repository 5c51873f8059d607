// Organizations and their members: the tenancy every other table is scoped by.
import { v } from "convex/values";
import { mutation } from "./_generated/server";
import { CAPABILITIES, requireOrgRole, requireUser } from "./lib/auth";
import { fail } from "./lib/errors";
import { requireName } from "./lib/names";
import { vRole } from "./validators";

const MAX_MEMBERS_SCANNED = 1000;

/** Creates an organization; the caller becomes its owner. */
export const createOrganization = mutation({
  args: { name: v.string() },
  returns: v.id("organizations"),
  handler: async (ctx, args) => {
    const user = await requireUser(ctx);
    const orgId = await ctx.db.insert("organizations", { name: requireName(args.name, "organization") });
    await ctx.db.insert("memberships", { orgId, userId: user._id, role: "owner" });
    return orgId;
  },
});

/** Adds a stored user to the org, or changes their role. Admins and owners only; only owners grant owner. */
export const setMemberRole = mutation({
  args: { orgId: v.id("organizations"), userId: v.id("users"), role: vRole },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { membership } = await requireOrgRole(ctx, args.orgId, CAPABILITIES.manageMembers);
    if (args.role === "owner" && membership.role !== "owner") {
      fail("FORBIDDEN", "Only an owner can make someone an owner.");
    }
    if ((await ctx.db.get("users", args.userId)) === null) fail("NOT_FOUND", "No such user.");
    const existing = await ctx.db
      .query("memberships")
      .withIndex("by_org_user", (q) => q.eq("orgId", args.orgId).eq("userId", args.userId))
      .unique();
    if (existing === null) {
      await ctx.db.insert("memberships", { orgId: args.orgId, userId: args.userId, role: args.role });
    } else if (existing.role !== args.role) {
      if (existing.role === "owner" && membership.role !== "owner") {
        fail("FORBIDDEN", "Only an owner can change an owner's role.");
      }
      if (existing.role === "owner") {
        // An org's members are few; its owners fewer.
        const members = await ctx.db
          .query("memberships")
          .withIndex("by_orgId", (q) => q.eq("orgId", args.orgId))
          .take(MAX_MEMBERS_SCANNED);
        if (members.filter((m) => m.role === "owner").length <= 1) {
          fail("INVALID_ARGUMENT", "An organization keeps at least one owner.");
        }
      }
      await ctx.db.patch("memberships", existing._id, { role: args.role });
    }
    return null;
  },
});
