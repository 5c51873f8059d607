// Dock actions: the only functions that talk to provider APIs. The sync action
// gets ids only; it loads and decrypts the dock's key itself.
import { v } from "convex/values";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { action, internalAction, type ActionCtx } from "../_generated/server";
import { CAPABILITIES } from "../lib/auth";
import { dockKeyBinding, encryptApiKey, spacesKeyBinding } from "../lib/encryption";
import { fail } from "../lib/errors";
import { requireName } from "../lib/names";
import { vProvider, type Provider, type Role } from "../validators";
import { listSpacesBuckets, SPACES_REGIONS } from "./adapters/digitalocean/spaces";
import { ProviderClient, ProviderError, type S3KeyPair } from "./http";
import { getAdapter } from "./registry";
import { serializeS3KeyPair } from "./s3";
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

// Spaces access key ids are 20 characters and secrets 43 (DigitalOcean's
// panel); the bounds leave room for other formats and refuse fragments.
export const MIN_SPACES_KEY_ID_LENGTH = 16;
export const MIN_SPACES_SECRET_LENGTH = 32;
export const MAX_SPACES_KEY_LENGTH = 256;

function requireKeyPart(raw: string, what: string, min: number): string {
  const value = raw.trim();
  if (value.length === 0) fail("INVALID_ARGUMENT", `The Spaces ${what} is empty.`);
  if (value.length < min) fail("INVALID_ARGUMENT", `The Spaces ${what} is too short: paste the whole value.`);
  if (value.length > MAX_SPACES_KEY_LENGTH) fail("INVALID_ARGUMENT", `The Spaces ${what} is too long.`);
  if (!/^[\x21-\x7e]+$/.test(value)) {
    fail("INVALID_ARGUMENT", `The Spaces ${what} contains spaces or characters no Spaces key has.`);
  }
  return value;
}

/** A Spaces access key pair as a caller typed it, checked like requireApiKey checks a token. */
export function requireSpacesKey(accessKeyId: string, secretAccessKey: string): S3KeyPair {
  return {
    accessKeyId: requireKeyPart(accessKeyId, "access key id", MIN_SPACES_KEY_ID_LENGTH),
    secretAccessKey: requireKeyPart(secretAccessKey, "secret key", MIN_SPACES_SECRET_LENGTH),
  };
}

/**
 * Proves a Spaces pair works with one signed ListBuckets (the first Spaces
 * region's). A refused pair is INVALID_CREDENTIALS; anything else is
 * PROVIDER_ERROR. The provider's text in the message holds neither half.
 */
export async function verifySpacesKey(pair: S3KeyPair): Promise<void> {
  try {
    await listSpacesBuckets(SPACES_REGIONS[0], pair, { timeoutMs: 15_000 });
  } catch (e) {
    if (e instanceof ProviderError && (e.status === 401 || e.status === 403)) {
      fail("INVALID_CREDENTIALS", `Spaces refused this access key: ${e.providerMessage}`);
    }
    if (e instanceof ProviderError) fail("PROVIDER_ERROR", e.message);
    throw e;
  }
}

/** The pair checked, verified and encrypted for a dock of `orgId`. */
async function sealSpacesKey(orgId: Id<"organizations">, accessKeyId: string, secretAccessKey: string): Promise<ArrayBuffer> {
  const pair = requireSpacesKey(accessKeyId, secretAccessKey);
  // Encrypting first means a missing master key fails before the pair leaves.
  const sealed = await encryptApiKey(serializeS3KeyPair(pair), spacesKeyBinding(orgId));
  await verifySpacesKey(pair);
  return sealed;
}

/**
 * Connects a provider account: checks the key, stores it encrypted, schedules
 * the first sync. A DigitalOcean dock may also carry a Spaces key pair (both
 * halves or neither), checked and stored the same way, so its buckets sync.
 */
export const createDock = action({
  args: {
    orgId: v.id("organizations"),
    name: v.string(),
    provider: vProvider,
    apiKey: v.string(),
    spacesAccessKeyId: v.optional(v.string()),
    spacesSecretAccessKey: v.optional(v.string()),
  },
  returns: v.id("docks"),
  handler: async (ctx, args): Promise<Id<"docks">> => {
    await requireOrgRoleFromAction(ctx, args.orgId, CAPABILITIES.manageDocks);
    const name = requireName(args.name, "dock");
    const apiKey = requireApiKey(args.apiKey);
    const withSpaces = args.spacesAccessKeyId !== undefined || args.spacesSecretAccessKey !== undefined;
    if (withSpaces && args.provider !== "digitalocean") {
      fail("INVALID_ARGUMENT", "A Spaces key belongs to a DigitalOcean dock only.");
    }
    if (withSpaces && (args.spacesAccessKeyId === undefined || args.spacesSecretAccessKey === undefined)) {
      fail("INVALID_ARGUMENT", "A Spaces key needs both its access key id and its secret key.");
    }
    const encryptedApiKey = await encryptApiKey(apiKey, dockKeyBinding(args.orgId));
    const accountId = await verifyApiKey(args.provider, apiKey);
    const encryptedSpacesKey = withSpaces
      ? await sealSpacesKey(args.orgId, args.spacesAccessKeyId!, args.spacesSecretAccessKey!)
      : undefined;
    return await ctx.runMutation(internal.docks.mutations.insertDock, {
      orgId: args.orgId,
      name,
      provider: args.provider,
      encryptedApiKey,
      accountId,
      encryptedSpacesKey,
    });
  },
});

/**
 * Gives a DigitalOcean dock a Spaces access key pair (or replaces its pair),
 * after one signed ListBuckets accepts it; its buckets sync from the next
 * sync on. INVALID_ARGUMENT for another provider's dock.
 */
export const setDockSpacesKey = action({
  args: { dockId: v.id("docks"), accessKeyId: v.string(), secretAccessKey: v.string() },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { provider, orgId } = await requireDockAccessFromAction(ctx, args.dockId, CAPABILITIES.manageDocks);
    if (provider !== "digitalocean") fail("INVALID_ARGUMENT", "A Spaces key belongs to a DigitalOcean dock only.");
    const encryptedSpacesKey = await sealSpacesKey(orgId, args.accessKeyId, args.secretAccessKey);
    await ctx.runMutation(internal.docks.mutations.storeDockSpacesKey, { dockId: args.dockId, encryptedSpacesKey });
    return null;
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
