// Sign-in bookkeeping: the users row for the caller's identity. The identity
// provider (Clerk, Auth0, Convex Auth) is configured in auth.config.ts.
import { v } from "convex/values";
import { mutation } from "./_generated/server";
import { requireIdentity } from "./lib/auth";

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
    if (existing !== null) {
      if (existing.name !== name || existing.email !== email) {
        await ctx.db.patch("users", existing._id, { name, email });
      }
      return existing._id;
    }
    return await ctx.db.insert("users", { name, email, tokenIdentifier: identity.tokenIdentifier });
  },
});
