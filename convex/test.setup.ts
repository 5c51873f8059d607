// Shared test fixtures: the module map for convex-test, typed seed builders
// with overrides, identities per role, and the wiring to the provider emulator.
// (Two dots in the name keep Convex from deploying this file.)
/// <reference types="vite/client" />
import { convexTest } from "convex-test";
import { jsonToConvex, type JSONValue } from "convex/values";
import { afterEach } from "vitest";
import { startEmulator, type Emulator } from "../docks/emulator/server";
import { api } from "./_generated/api";
import type { Doc, Id } from "./_generated/dataModel";
import { documentLimitProblems } from "./lib/documentLimits";
import { dockKeyBinding, encryptApiKey } from "./lib/encryption";
import schema from "./schema";
import { normalizeEmail } from "./users";
import type { Provider, Role } from "./validators";

export const modules = import.meta.glob("./**/*.*s");

export const TEST_MASTER_KEY = "a1".repeat(32);

export type TestConvex = ReturnType<typeof newTest>;

/**
 * A fresh in-memory backend; `limits` enforces Convex's transaction limits.
 * Every document it writes is held to Convex's value limits (see below).
 */
export function newTest(options: { limits?: boolean } = {}) {
  process.env.ENCRYPTION_MASTER_KEY ??= TEST_MASTER_KEY;
  // Tests press "sync dock" back to back; the button's cooldown has its own test.
  process.env.SYNC_BUTTON_COOLDOWN_MS ??= "1";
  const t = convexTest({ schema, modules, transactionLimits: options.limits ?? false });
  enforceDocumentLimits();
  return t;
}

// ---------------------------------------------------------------------------
// Convex's document limits in the test world. convex-test stores documents a
// real deployment refuses (over 1 MiB, nested past 16, lone surrogates...), so
// every insert, replace and patch is checked on its way in, at the syscall the
// Convex runtime makes for it. A write that breaks a limit throws, as the
// real database would, and is also recorded: if the code under test swallows
// the error, the test still fails in afterEach.

type AsyncSyscall = (op: string, jsonArgs: string) => Promise<string>;
type JsonDocument = Record<string, JSONValue>;

const checkedGlobals = new WeakSet<object>();
const checkedSyscalls = new WeakMap<AsyncSyscall, AsyncSyscall>();
const limitViolations: string[] = [];

/** The limit violations recorded since the last call; a test that expects one takes it. */
export function takeDocumentLimitViolations(): string[] {
  return limitViolations.splice(0);
}

afterEach(() => {
  const found = takeDocumentLimitViolations();
  if (found.length > 0) {
    throw new Error(`this test wrote documents a Convex deployment refuses:\n${found.join("\n")}`);
  }
});

// Observers of document writes (a test counting how often a document is
// written, and with what); called after each write the backend accepted.
type WriteObserver = (write: { op: "insert" | "replace" | "patch"; id: string; value: JsonDocument }) => void;
const writeObservers = new Set<WriteObserver>();

/** Calls `observer` with every write of the document `id` until the returned function is called. */
export function observeWrites(id: string, observer: (value: JsonDocument, op: "insert" | "replace" | "patch") => void) {
  const watch: WriteObserver = (write) => {
    if (write.id === id) observer(write.value, write.op);
  };
  writeObservers.add(watch);
  return () => writeObservers.delete(watch);
}

function notifyWrite(op: "insert" | "replace" | "patch", id: string, value: JsonDocument) {
  for (const observer of writeObservers) observer({ op, id, value });
}

function enforceDocumentLimits() {
  const convex = (globalThis as { Convex?: object }).Convex;
  const descriptor = convex && Object.getOwnPropertyDescriptor(convex, "asyncSyscall");
  if (convex === undefined || descriptor?.get === undefined || !descriptor.configurable) {
    throw new Error("convex-test no longer installs Convex.asyncSyscall as a getter; the document limit checks need a new hook");
  }
  if (checkedGlobals.has(convex)) return;
  const current = descriptor.get;
  // convex-test's getter answers the syscall of whichever test instance is
  // running; each gets its own checking wrapper (and its own document cache).
  Object.defineProperty(convex, "asyncSyscall", {
    configurable: true,
    enumerable: descriptor.enumerable,
    get() {
      return checkedSyscall(current.call(this) as AsyncSyscall);
    },
  });
  checkedGlobals.add(convex);
}

function checkedSyscall(inner: AsyncSyscall): AsyncSyscall {
  const existing = checkedSyscalls.get(inner);
  if (existing !== undefined) return existing;
  // What this instance has written, by id, so a patch can be checked as the
  // whole document it makes.
  const written = new Map<string, JsonDocument>();
  const wrapped: AsyncSyscall = async (op, jsonArgs) => {
    if (op !== "1.0/insert" && op !== "1.0/replace" && op !== "1.0/shallowMerge" && op !== "1.0/remove") {
      return await inner(op, jsonArgs);
    }
    const args = JSON.parse(jsonArgs) as { table?: string; id?: string; value?: JsonDocument };
    const table = args.table ?? "a table";
    if (op === "1.0/remove") {
      written.delete(args.id!);
      return await inner(op, jsonArgs);
    }
    if (op === "1.0/shallowMerge") {
      // A document this instance never wrote is checked by the patch alone:
      // any problem the patch has, the patched document has too.
      const before = written.get(args.id!);
      const after: JsonDocument = { ...before };
      for (const [field, value] of Object.entries(args.value!)) {
        const unset = typeof value === "object" && value !== null && "$undefined" in value;
        if (unset) delete after[field];
        else after[field] = value;
      }
      checkDocument(table, after);
      const result = await inner(op, jsonArgs);
      if (before !== undefined) written.set(args.id!, after);
      notifyWrite("patch", args.id!, args.value!);
      return result;
    }
    checkDocument(table, args.value!);
    const result = await inner(op, jsonArgs);
    const id = op === "1.0/insert" ? (JSON.parse(result) as { _id: string })._id : args.id!;
    written.set(id, args.value!);
    notifyWrite(op === "1.0/insert" ? "insert" : "replace", id, args.value!);
    return result;
  };
  checkedSyscalls.set(inner, wrapped);
  return wrapped;
}

function checkDocument(table: string, document: JsonDocument) {
  const problems = documentLimitProblems(jsonToConvex(document), { isDocument: true });
  if (problems.length === 0) return;
  const listed = problems.slice(0, 5).map((p) => `${p.path}: ${p.problem}`).join("; ");
  const message = `a ${table} document breaks Convex's limits: ${listed}`;
  limitViolations.push(message);
  throw new Error(message);
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
  process.env.VULTR_S3_URL = emulator.vultrS3Url;
  process.env.DIGITALOCEAN_SPACES_URL = emulator.digitaloceanSpacesUrl;
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
    const email = overrides.email ?? `user${n}@example.test`;
    // As storeUser stores it: the email as sent, and its lookup key beside it.
    const id = await ctx.db.insert("users", {
      name: `User ${n}`,
      email,
      normalizedEmail: normalizeEmail(email),
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
      // A new dock, as insertDock makes it: no rows, totals exact.
      storageTotalsBuiltAt: 0,
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

