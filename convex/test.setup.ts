// Shared test fixtures: the module map for convex-test, typed seed builders
// with overrides, identities per role, and the wiring to the provider emulator.
// (Two dots in the name keep Convex from deploying this file.)
/// <reference types="vite/client" />
import { convexTest } from "convex-test";
import { startEmulator, type Emulator } from "../docks/emulator/server";
import { api } from "./_generated/api";
import type { Doc, Id } from "./_generated/dataModel";
import { dockKeyBinding, encryptApiKey } from "./lib/encryption";
import schema from "./schema";
import type { Provider, Role } from "./validators";

export const modules = import.meta.glob("./**/*.*s");

export const TEST_MASTER_KEY = "a1".repeat(32);

export type TestConvex = ReturnType<typeof newTest>;

/** A fresh in-memory backend; `limits` enforces Convex's transaction limits. */
export function newTest(options: { limits?: boolean } = {}) {
  process.env.ENCRYPTION_MASTER_KEY ??= TEST_MASTER_KEY;
  return convexTest({ schema, modules, transactionLimits: options.limits ?? false });
}

/** A fresh emulator with its default accounts, the adapters pointed at it. */
export async function startTestEmulator(): Promise<Emulator> {
  const emulator = await startEmulator();
  useEmulator(emulator);
  return emulator;
}

/** Points the adapters at the emulator, with retries fast enough for tests. */
export function useEmulator(emulator: Emulator) {
  process.env.ENCRYPTION_MASTER_KEY = TEST_MASTER_KEY;
  process.env.VULTR_API_URL = emulator.baseUrls.vultr;
  process.env.DIGITALOCEAN_API_URL = emulator.baseUrls.digitalocean;
  process.env.LINODE_API_URL = emulator.baseUrls.linode;
  process.env.SYNC_RETRY_BASE_DELAY_MS = "5";
  process.env.SYNC_RETRY_MAX_DELAY_MS = "50";
  process.env.SYNC_REQUEST_TIMEOUT_MS = "2000";
}

export async function seedOrg(t: TestConvex, name = "Acme") {
  return await t.run((ctx) => ctx.db.insert("organizations", { name }));
}

let userCounter = 0;

/** A user with a role in an org, and a client signed in as that user. */
export async function seedMember(
  t: TestConvex,
  orgId: Id<"organizations"> | null,
  role: Role = "member",
  overrides: Partial<Doc<"users">> = {},
) {
  const n = ++userCounter;
  const tokenIdentifier = overrides.tokenIdentifier ?? `https://auth.test|user-${n}`;
  const userId = await t.run(async (ctx) => {
    const id = await ctx.db.insert("users", {
      name: `User ${n}`,
      email: `user${n}@example.test`,
      tokenIdentifier,
      ...overrides,
    });
    if (orgId !== null) await ctx.db.insert("memberships", { orgId, userId: id, role });
    return id;
  });
  const as = t.withIdentity({ tokenIdentifier, subject: `user-${n}`, name: `User ${n}` });
  return { userId, as };
}

/** A dock whose API key is stored encrypted, as dock creation stores it. */
export async function seedDock(
  t: TestConvex,
  orgId: Id<"organizations">,
  provider: Provider,
  token: string,
  overrides: Partial<Doc<"docks">> = {},
) {
  const encryptedApiKey = await encryptApiKey(token, dockKeyBinding(orgId));
  return await t.run((ctx) =>
    ctx.db.insert("docks", {
      orgId,
      name: `${provider} dock`,
      provider,
      encryptedApiKey,
      syncState: "idle",
      ...overrides,
    }),
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type SignedIn = ReturnType<TestConvex["withIdentity"]>;

/** Presses "sync dock" as `as` and waits for the sync to finish. */
export async function syncNow(t: TestConvex, as: SignedIn, dockId: Id<"docks">) {
  const before = await t.run((ctx) => ctx.db.get("docks", dockId));
  await as.mutation(api.docks.mutations.syncDock, { dockId });
  for (let i = 0; i < 6000; i++) {
    await t.finishInProgressScheduledFunctions();
    const dock = await t.run((ctx) => ctx.db.get("docks", dockId));
    if (dock === null) throw new Error("the dock was deleted");
    if (dock.syncState === "idle" && dock.lastSyncAt !== before?.lastSyncAt) return dock;
    await sleep(5);
  }
  throw new Error("the sync did not finish");
}

export async function rowsOf<T extends "servers" | "blockVolumes" | "buckets">(
  t: TestConvex,
  table: T,
  dockId: Id<"docks">,
): Promise<Doc<T>[]> {
  return (await t.run((ctx) =>
    ctx.db
      .query(table as "blockVolumes")
      .withIndex("by_dockId", (q) => q.eq("dockId", dockId))
      .collect(),
  )) as unknown as Doc<T>[];
}

