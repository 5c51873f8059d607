// Organizations and their members: the tenancy every other table is scoped by.
import { v } from "convex/values";
import type { Doc, Id } from "./_generated/dataModel";
import { mutation, query, type MutationCtx } from "./_generated/server";
import {
  CAPABILITIES,
  getMembership,
  MAX_ORGS_PER_USER,
  readableMemberships,
  readableOrgIds,
  requireOrgRole,
  requireUser,
} from "./lib/auth";
import { collectForOrgs } from "./lib/boundedLists";
import { fail } from "./lib/errors";
import { requireName } from "./lib/names";
import { normalizeEmail } from "./users";
import { type Role, vMember, vMyOrganization, vRole } from "./validators";

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

/**
 * Gives `target` `role` in the org, adding them when they are not a member:
 * the rules setMemberRole and addMemberByEmail share. `caller` is the
 * membership requireOrgRole returned; only owners grant owner or change an
 * owner's role; the last owner keeps it; a new membership respects
 * MAX_ORGS_PER_USER. `target` null (no such user) is NOT_FOUND with `notFound`,
 * checked after the owner rule so an admin learns nothing more by asking for
 * owner.
 */
async function putMemberRole(
  ctx: MutationCtx,
  orgId: Id<"organizations">,
  caller: Doc<"memberships">,
  target: Doc<"users"> | null,
  role: Role,
  notFound: string,
): Promise<Id<"users">> {
  if (role === "owner" && caller.role !== "owner") {
    fail("FORBIDDEN", "Only an owner can make someone an owner.");
  }
  if (target === null) fail("NOT_FOUND", notFound);
  const existing = await getMembership(ctx, orgId, target._id);
  if (existing === null) {
    await refuseMembershipPastLimit(ctx, target._id, "theirs");
    await ctx.db.insert("memberships", { orgId, userId: target._id, role });
  } else if (existing.role !== role) {
    if (existing.role === "owner") {
      if (caller.role !== "owner") fail("FORBIDDEN", "Only an owner can change an owner's role.");
      await refuseLastOwner(ctx, orgId, target._id, "An organization keeps at least one owner.");
    }
    await ctx.db.patch("memberships", existing._id, { role });
  }
  return target._id;
}

/** Adds a stored user to the org, or changes their role. Admins and owners only; only owners grant owner. */
export const setMemberRole = mutation({
  args: { orgId: v.id("organizations"), userId: v.id("users"), role: vRole },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { membership } = await requireOrgRole(ctx, args.orgId, CAPABILITIES.manageMembers);
    const target = await ctx.db.get("users", args.userId);
    await putMemberRole(ctx, args.orgId, membership, target, args.role, "No such user.");
    return null;
  },
});

/**
 * Adds someone by the email they signed in with (or changes their role, as
 * setMemberRole does). Only people who have signed in at least once have a
 * users row to find; the lookup ignores case and surrounding spaces.
 */
export const addMemberByEmail = mutation({
  args: { orgId: v.id("organizations"), email: v.string(), role: vRole },
  returns: v.id("users"),
  handler: async (ctx, args) => {
    const { membership } = await requireOrgRole(ctx, args.orgId, CAPABILITIES.manageMembers);
    const key = normalizeEmail(args.email);
    if (key === undefined) fail("INVALID_ARGUMENT", "Enter an email address.");
    // Two accounts (two sign-in methods) may share an email; adding either
    // could hand access to the wrong one, so that case is refused.
    const matches = await ctx.db
      .query("users")
      .withIndex("by_email", (q) => q.eq("normalizedEmail", key))
      .take(2);
    if (matches.length > 1) {
      fail("INVALID_ARGUMENT", "Several accounts use this email; add the person from their account instead.");
    }
    return await putMemberRole(
      ctx,
      args.orgId,
      membership,
      matches[0] ?? null,
      args.role,
      "No one has signed in with this email yet. Ask them to sign in once first, then add them.",
    );
  },
});

/** The orgs the caller belongs to, with their role in each, in the order they joined. */
export const listMine = query({
  args: {},
  returns: v.array(vMyOrganization),
  handler: async (ctx) => {
    const memberships = await readableMemberships(ctx);
    const result = [];
    for (const m of memberships) {
      const org = await ctx.db.get("organizations", m.orgId);
      if (org !== null) result.push({ orgId: m.orgId, name: org.name, role: m.role });
    }
    return result;
  },
});

/**
 * The org's members in the order they joined, for members and above; [] for
 * viewers and anyone outside the org. Every member or TOO_MANY_ROWS, never a
 * silently cut list.
 */
export const listMembers = query({
  args: { orgId: v.id("organizations") },
  returns: v.array(vMember),
  handler: async (ctx, args) => {
    const orgIds = await readableOrgIds(ctx, args.orgId, CAPABILITIES.readMembers);
    return await collectForOrgs(
      orgIds,
      async function* (orgId) {
        for await (const m of ctx.db.query("memberships").withIndex("by_orgId", (q) => q.eq("orgId", orgId))) {
          const user = await ctx.db.get("users", m.userId);
          if (user !== null) yield { userId: user._id, name: user.name, email: user.email, role: m.role };
        }
      },
      "this organization has more members than one list can show",
    );
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
