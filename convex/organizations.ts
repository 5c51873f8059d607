// Organizations and their members: the tenancy every other table is scoped by.
import { v } from "convex/values";
import type { Id } from "./_generated/dataModel";
import { mutation, type MutationCtx } from "./_generated/server";
import { CAPABILITIES, getMembership, MAX_ORGS_PER_USER, requireOrgRole, requireUser } from "./lib/auth";
import { fail } from "./lib/errors";
import { requireName } from "./lib/names";
import { vRole } from "./validators";

const MAX_MEMBERS_SCANNED = 1000;

/**
 * LIMIT_REACHED when `userId` already belongs to MAX_ORGS_PER_USER orgs.
 * Every new membership passes here, so the dashboard's read of a user's
 * memberships (readableOrgIds) stays small by construction.
 */
async function refuseMembershipPastLimit(ctx: MutationCtx, userId: Id<"users">, whose: "yours" | "theirs") {
  const memberships = await ctx.db
    .query("memberships")
    .withIndex("by_userId", (q) => q.eq("userId", userId))
    .take(MAX_ORGS_PER_USER);
  if (memberships.length >= MAX_ORGS_PER_USER) {
    fail(
      "LIMIT_REACHED",
      whose === "yours"
        ? `You already belong to ${MAX_ORGS_PER_USER} organizations, the most one user can. Leave one first.`
        : `This user already belongs to ${MAX_ORGS_PER_USER} organizations, the most one user can. They must leave one first.`,
    );
  }
}

/** INVALID_ARGUMENT unless the org has an owner other than `userId`: an org always keeps one. */
async function refuseLastOwner(ctx: MutationCtx, orgId: Id<"organizations">, userId: Id<"users">, message: string) {
  // An org's members are few; its owners fewer. Past MAX_MEMBERS_SCANNED an
  // owner may be missed, which refuses (never allows) the change.
  const members = await ctx.db
    .query("memberships")
    .withIndex("by_orgId", (q) => q.eq("orgId", orgId))
    .take(MAX_MEMBERS_SCANNED);
  if (!members.some((m) => m.role === "owner" && m.userId !== userId)) fail("INVALID_ARGUMENT", message);
}

/** Creates an organization; the caller becomes its owner. */
export const createOrganization = mutation({
  args: { name: v.string() },
  returns: v.id("organizations"),
  handler: async (ctx, args) => {
    const user = await requireUser(ctx);
    const name = requireName(args.name, "organization");
    await refuseMembershipPastLimit(ctx, user._id, "yours");
    const orgId = await ctx.db.insert("organizations", { name });
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
    const existing = await getMembership(ctx, args.orgId, args.userId);
    if (existing === null) {
      await refuseMembershipPastLimit(ctx, args.userId, "theirs");
      await ctx.db.insert("memberships", { orgId: args.orgId, userId: args.userId, role: args.role });
    } else if (existing.role !== args.role) {
      if (existing.role === "owner") {
        if (membership.role !== "owner") fail("FORBIDDEN", "Only an owner can change an owner's role.");
        await refuseLastOwner(ctx, args.orgId, args.userId, "An organization keeps at least one owner.");
      }
      await ctx.db.patch("memberships", existing._id, { role: args.role });
    }
    return null;
  },
});

/**
 * Takes a user out of the org. Admins remove viewers, members and admins
 * (themselves included); only owners remove owners; the last owner stays.
 */
export const removeMember = mutation({
  args: { orgId: v.id("organizations"), userId: v.id("users") },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { membership } = await requireOrgRole(ctx, args.orgId, CAPABILITIES.manageMembers);
    const target = await getMembership(ctx, args.orgId, args.userId);
    if (target === null) fail("NOT_FOUND", "This user is not a member of the organization.");
    if (target.role === "owner") {
      if (membership.role !== "owner") fail("FORBIDDEN", "Only an owner can remove an owner.");
      await refuseLastOwner(
        ctx,
        args.orgId,
        args.userId,
        "This is the organization's last owner. Make another member owner first.",
      );
    }
    await ctx.db.delete("memberships", target._id);
    return null;
  },
});

/** The caller leaves the org, whatever their role; the last owner must transfer ownership first. */
export const leaveOrganization = mutation({
  args: { orgId: v.id("organizations") },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { user, membership } = await requireOrgRole(ctx, args.orgId, CAPABILITIES.leaveOrganization);
    if (membership.role === "owner") {
      await refuseLastOwner(
        ctx,
        args.orgId,
        user._id,
        "You are the organization's last owner. Transfer ownership first: make another member owner, then leave.",
      );
    }
    await ctx.db.delete("memberships", membership._id);
    return null;
  },
});
