// Who is calling and what they may do. Identity comes only from ctx.auth
// (keyed by tokenIdentifier); roles are checked here and nowhere else.
import type { Auth, UserIdentity } from "convex/server";
import type { Doc, Id } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { ROLES, type Role } from "../validators";
import { fail } from "./errors";

// What each role may do, cumulatively: viewers read and may leave, members
// also sync docks, admins (and owners) also manage docks and members.
export const CAPABILITIES = {
  read: "viewer",
  // The provider's own error text may echo part of what it was sent; viewers
  // get error codes and fixed texts instead.
  readProviderErrors: "member",
  leaveOrganization: "viewer",
  syncDock: "member",
  manageDocks: "admin",
  manageMembers: "admin",
  // Viewers see the org's resources but not who else is in it.
  readMembers: "member",
  readAudit: "admin",
} as const satisfies Record<string, Role>;

export function roleAtLeast(role: Role, minimum: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(minimum);
}

/** The caller's identity; UNAUTHENTICATED without one. Works in actions too. */
export async function requireIdentity(ctx: { auth: Auth }): Promise<UserIdentity> {
  const identity = await ctx.auth.getUserIdentity();
  if (identity === null) fail("UNAUTHENTICATED", "Sign in to continue.");
  return identity;
}

/** The signed-in user's row, or null when not signed in or not yet stored. */
export async function getCurrentUserOrNull(ctx: QueryCtx): Promise<Doc<"users"> | null> {
  const identity = await ctx.auth.getUserIdentity();
  if (identity === null) return null;
  return await ctx.db
    .query("users")
    .withIndex("by_tokenIdentifier", (q) => q.eq("tokenIdentifier", identity.tokenIdentifier))
    .unique();
}

/**
 * The access check for the caller's own row (users.me): the row for the
 * caller's tokenIdentifier, or null when not signed in or never stored (a
 * query answers null, not an error, so a signed-out dashboard still loads).
 * It takes no id, so it can only ever answer the caller.
 */
export async function readableOwnUser(ctx: QueryCtx): Promise<Doc<"users"> | null> {
  return await getCurrentUserOrNull(ctx);
}

/** The signed-in user's row; UNAUTHENTICATED when there is none. */
export async function requireUser(ctx: QueryCtx): Promise<Doc<"users">> {
  const user = await getCurrentUserOrNull(ctx);
  if (user === null) fail("UNAUTHENTICATED", "Sign in to continue.");
  return user;
}

export async function getMembership(
  ctx: QueryCtx,
  orgId: Id<"organizations">,
  userId: Id<"users">,
): Promise<Doc<"memberships"> | null> {
  return await ctx.db
    .query("memberships")
    .withIndex("by_org_user", (q) => q.eq("orgId", orgId).eq("userId", userId))
    .unique();
}

/**
 * The one access check for state-changing functions: the caller holds at
 * least `minimum` in `orgId`. Throws UNAUTHENTICATED or FORBIDDEN; a caller
 * outside the org learns nothing more than FORBIDDEN.
 */
export async function requireOrgRole(
  ctx: QueryCtx,
  orgId: Id<"organizations">,
  minimum: Role,
): Promise<{ user: Doc<"users">; membership: Doc<"memberships"> }> {
  const user = await requireUser(ctx);
  const membership = await getMembership(ctx, orgId, user._id);
  if (membership === null || !roleAtLeast(membership.role, minimum)) {
    fail("FORBIDDEN", `This needs the ${minimum} role in the organization.`);
  }
  return { user, membership };
}

/**
 * The one access check for functions that take a dock id. Identity first
 * (UNAUTHENTICATED); then a dock that is gone, being removed, or in an org
 * the caller is not a member of all read as NOT_FOUND, so a stranger cannot
 * tell which dock ids exist; a member with too small a role gets FORBIDDEN.
 */
export async function requireDockRole(
  ctx: QueryCtx,
  dockId: Id<"docks">,
  minimum: Role,
): Promise<{ user: Doc<"users">; dock: Doc<"docks">; membership: Doc<"memberships"> }> {
  const user = await requireUser(ctx);
  const dock = await ctx.db.get("docks", dockId);
  const membership =
    dock !== null && dock.deletingAt === undefined ? await getMembership(ctx, dock.orgId, user._id) : null;
  if (dock === null || membership === null) fail("NOT_FOUND", "No such dock.");
  if (!roleAtLeast(membership.role, minimum)) {
    fail("FORBIDDEN", `This needs the ${minimum} role in the organization.`);
  }
  return { user, dock, membership };
}

/**
 * The access check for reading one dock: the live dock and the caller's role
 * in its org, or null when the dock is gone, being removed, or in an org the
 * caller is not a member of (one answer for each, so a dock id tells a
 * stranger nothing). UNAUTHENTICATED without an identity, as readableOrgIds.
 */
export async function readableDock(
  ctx: QueryCtx,
  dockId: Id<"docks">,
): Promise<{ dock: Doc<"docks">; role: Role } | null> {
  await requireIdentity(ctx);
  const user = await getCurrentUserOrNull(ctx);
  if (user === null) return null;
  const dock = await ctx.db.get("docks", dockId);
  if (dock === null || dock.deletingAt !== undefined) return null;
  const membership = await getMembership(ctx, dock.orgId, user._id);
  if (membership === null || !roleAtLeast(membership.role, CAPABILITIES.read)) return null;
  return { dock, role: membership.role };
}

/**
 * The access check for dashboard reads: the orgs whose rows the caller may
 * see, limited to `orgId` when given. Throws UNAUTHENTICATED without an
 * identity; answers [] (not an error) where the caller may see nothing, so a
 * polling dashboard does not break when a membership is removed.
 */
export async function readableOrgIds(
  ctx: QueryCtx,
  orgId?: Id<"organizations">,
  minimum: Role = CAPABILITIES.read,
): Promise<Id<"organizations">[]> {
  await requireIdentity(ctx);
  // Signed in but never stored (no users row): a member of nothing.
  const user = await getCurrentUserOrNull(ctx);
  if (user === null) return [];
  if (orgId !== undefined) {
    const membership = await getMembership(ctx, orgId, user._id);
    return membership !== null && roleAtLeast(membership.role, minimum) ? [orgId] : [];
  }
  const memberships = await membershipsOf(ctx, user._id);
  return memberships.filter((m) => roleAtLeast(m.role, minimum)).map((m) => m.orgId);
}

/**
 * The access check for the caller's own memberships (the org switcher):
 * UNAUTHENTICATED without an identity, [] for an identity never stored, as
 * readableOrgIds answers; otherwise every membership, in join order.
 */
export async function readableMemberships(ctx: QueryCtx): Promise<Doc<"memberships">[]> {
  await requireIdentity(ctx);
  const user = await getCurrentUserOrNull(ctx);
  if (user === null) return [];
  return await membershipsOf(ctx, user._id);
}

async function membershipsOf(ctx: QueryCtx, userId: Id<"users">): Promise<Doc<"memberships">[]> {
  // Small by construction: no membership is added past MAX_ORGS_PER_USER
  // (organizations.ts). Read whole, never cut: a cap here would silently drop
  // the orgs joined last (and memberships written before the bound existed).
  return await ctx.db
    .query("memberships")
    .withIndex("by_userId", (q) => q.eq("userId", userId))
    .collect();
}

/**
 * The most organizations one user may belong to. createOrganization,
 * setMemberRole and addMemberByEmail refuse a membership past it (LIMIT_REACHED), which keeps
 * readableOrgIds' read of a user's memberships small.
 */
export const MAX_ORGS_PER_USER = 100;

