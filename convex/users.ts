// Sign-in bookkeeping: the users row for the caller's identity. The identity
// provider (Clerk, Auth0, Convex Auth) is configured in auth.config.ts.
import { v } from "convex/values";
import { mutation, query } from "./_generated/server";
import { readableOwnUser, requireIdentity } from "./lib/auth";
import { vOwnUser } from "./validators";

/**
 * The lookup key for an email: trimmed and lower-cased, or undefined when
 * empty. The email itself is stored as the provider sent it (people see it as
 * they typed it) and this copy is indexed beside it (by_email), so
 * addMemberByEmail finds "Ann@Example.com" when asked for "ann@example.com"
 * without changing what storeUser stores. Lower-casing the local part too is
 * a choice: providers treat it case-insensitively in practice, and a missed
 * match only means asking the person for the address they signed in with.
 */
export function normalizeEmail(email: string): string | undefined {
  const normalized = email.trim().toLowerCase();
  return normalized === "" ? undefined : normalized;
}

/** Stores or refreshes the signed-in user; the dashboard calls it after sign-in. */
export const storeUser = mutation({
  args: {},
  returns: v.id("users"),
  handler: async (ctx) => {
    const identity = await requireIdentity(ctx);
    const existing = await ctx.db
      .query("users")
      .withIndex("by_tokenIdentifier", (q) => q.eq("tokenIdentifier", identity.tokenIdentifier))
      .unique();
    // A claim the identity provider did not send keeps what was stored.
    const name = identity.name ?? existing?.name ?? identity.email ?? "Unnamed user";
    const email = identity.email ?? existing?.email ?? "";
    const normalizedEmail = normalizeEmail(email);
    if (existing !== null) {
      // Rows stored before normalizedEmail existed gain it here.
      if (existing.name !== name || existing.email !== email || existing.normalizedEmail !== normalizedEmail) {
        await ctx.db.patch("users", existing._id, { name, email, normalizedEmail });
      }
      return existing._id;
    }
    return await ctx.db.insert("users", { name, email, normalizedEmail, tokenIdentifier: identity.tokenIdentifier });
  },
});

/** The caller's own row (never another user's, never tokenIdentifier); null when not signed in or never stored. */
export const me = query({
  args: {},
  returns: v.union(v.null(), vOwnUser),
  handler: async (ctx) => {
    const user = await readableOwnUser(ctx);
    if (user === null) return null;
    return { _id: user._id, name: user.name, email: user.email };
  },
});
