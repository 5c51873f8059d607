// Dock actions: the only functions that talk to provider APIs. The sync action
// gets ids only; it loads and decrypts the dock's key itself.
import { v } from "convex/values";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { action, internalAction, type ActionCtx } from "../_generated/server";
import { CAPABILITIES } from "../lib/auth";
import { dockKeyBinding, encryptApiKey } from "../lib/encryption";
import { fail } from "../lib/errors";
import { requireName } from "../lib/names";
import { vProvider, type Provider, type Role } from "../validators";
import { ProviderClient, ProviderError } from "./http";
import { getAdapter } from "./registry";
import { runDockSync } from "./syncFlow";

export const MAX_API_KEY_LENGTH = 1000;
// Shorter than any real provider token (Vultr's are 36 characters, Linode's
// 64 hex digits, DigitalOcean's "dop_v1_" and 64 hex digits): anything
// shorter is a typo or a fragment, and is refused before it is sent anywhere.
export const MIN_API_KEY_LENGTH = 32;

/** The access check for actions, which cannot read the database themselves. */
async function requireOrgRoleFromAction(ctx: ActionCtx, orgId: Id<"organizations">, minimum: Role) {
  await ctx.runQuery(internal.docks.queries.checkOrgRole, { orgId, minimum });
}

async function requireDockAccessFromAction(
  ctx: ActionCtx,
  dockId: Id<"docks">,
  minimum: Role,
): Promise<{ provider: Provider; orgId: Id<"organizations"> }> {
  return await ctx.runQuery(internal.docks.queries.checkDockAccess, { dockId, minimum });
}

/**
 * Proves a key works with the provider's cheapest authenticated call and
 * answers which provider account it belongs to (docks.accountId).
 * A refused key is INVALID_CREDENTIALS; anything else is PROVIDER_ERROR, so a
 * provider outage is not mistaken for a bad key.
 */
export async function verifyApiKey(provider: Provider, apiKey: string): Promise<string> {
  const client = new ProviderClient({ provider, token: apiKey, retry: { maxAttempts: 2, timeoutMs: 15_000 } });
  try {
    return await getAdapter(provider).verifyCredentials(client);
  } catch (e) {
    if (e instanceof ProviderError && (e.status === 401 || e.status === 403)) {
      fail("INVALID_CREDENTIALS", `The provider refused this API key: ${e.providerMessage}`);
    }
    if (e instanceof ProviderError) fail("PROVIDER_ERROR", e.message);
    throw e;
  }
}

export function requireApiKey(raw: string): string {
  const apiKey = raw.trim();
  if (apiKey.length === 0) fail("INVALID_ARGUMENT", "The API key is empty.");
  if (apiKey.length < MIN_API_KEY_LENGTH) {
    fail(
      "INVALID_ARGUMENT",
      `The API key is too short: provider tokens have at least ${MIN_API_KEY_LENGTH} characters. Paste the whole token.`,
    );
  }
  if (apiKey.length > MAX_API_KEY_LENGTH) fail("INVALID_ARGUMENT", "The API key is too long.");
  // Provider tokens are printable ASCII without spaces; anything else is a
  // paste accident and would break the Authorization header.
  if (!/^[\x21-\x7e]+$/.test(apiKey)) {
    fail("INVALID_ARGUMENT", "The API key contains spaces or characters no provider token has.");
  }
  return apiKey;
}

/** Connects a provider account: checks the key, stores it encrypted, schedules the first sync. */
export const createDock = action({
  args: { orgId: v.id("organizations"), name: v.string(), provider: vProvider, apiKey: v.string() },
  returns: v.id("docks"),
  handler: async (ctx, args): Promise<Id<"docks">> => {
    await requireOrgRoleFromAction(ctx, args.orgId, CAPABILITIES.manageDocks);
    const name = requireName(args.name, "dock");
    const apiKey = requireApiKey(args.apiKey);
    const encryptedApiKey = await encryptApiKey(apiKey, dockKeyBinding(args.orgId));
    const accountId = await verifyApiKey(args.provider, apiKey);
    return await ctx.runMutation(internal.docks.mutations.insertDock, {
      orgId: args.orgId,
      name,
      provider: args.provider,
      encryptedApiKey,
      accountId,
    });
  },
});

/**
 * Replaces a dock's key with a new one the provider accepts for the same
 * provider account (ACCOUNT_MISMATCH otherwise); the old key stays until then.
 */
export const rotateDockKey = action({
  args: { dockId: v.id("docks"), apiKey: v.string() },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { provider, orgId } = await requireDockAccessFromAction(ctx, args.dockId, CAPABILITIES.manageDocks);
    const apiKey = requireApiKey(args.apiKey);
    // Encrypting first means a missing master key fails before the key leaves.
    const encryptedApiKey = await encryptApiKey(apiKey, dockKeyBinding(orgId));
    const accountId = await verifyApiKey(provider, apiKey);
    // The account is compared in the mutation, in the same transaction that stores the key.
    await ctx.runMutation(internal.docks.mutations.replaceDockKey, { dockId: args.dockId, encryptedApiKey, accountId });
    return null;
  },
});

export const syncDockResources = internalAction({
  args: { dockId: v.id("docks"), leaseId: v.string() },
  returns: v.null(),
  handler: async (ctx, { dockId, leaseId }) => {
    await runDockSync(ctx, dockId, leaseId);
    return null;
  },
});
