// Security suite: who may call what (every public function × every kind of
// caller), ids from another org, hostile arguments, where API keys and
// provider secrets may (never) end up, and a wrong or missing master key.
// docs/threat-model.md cites the tests below by name.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { getFunctionName, type FunctionReference } from "convex/server";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from "vitest";
import { defaultAccounts, generateAccount } from "../docks/emulator/accounts";
import { startEmulator, type Emulator } from "../docks/emulator/server";
import { api } from "./_generated/api";
import apiDts from "./_generated/api.d.ts?raw";
import type { Doc, Id, TableNames } from "./_generated/dataModel";
import { roleAtLeast } from "./lib/auth";
import { summarize } from "./resources/summary";
import { rebuildBatch, startRebuild } from "./resources/totals";
import type { ErrorCode } from "./lib/errors";
import schema from "./schema";
import {
  modules,
  newTest,
  seedDock,
  seedMember,
  seedOrg,
  syncNow,
  TEST_MASTER_KEY,
  useEmulator,
  type TestConvex,
} from "./test.setup";
import { PROVIDERS, type Provider, type Role } from "./validators";

// ---------------------------------------------------------------------------
// Environment: one emulator for the file, reset before every test; every
// variable a test may change is put back afterwards.

const ENV_KEYS = [
  "ENCRYPTION_MASTER_KEY",
  "VULTR_API_URL",
  "DIGITALOCEAN_API_URL",
  "LINODE_API_URL",
  "VULTR_S3_URL",
  "DIGITALOCEAN_SPACES_URL",
  "SYNC_RETRY_BASE_DELAY_MS",
  "SYNC_RETRY_MAX_DELAY_MS",
  "SYNC_REQUEST_TIMEOUT_MS",
  "SYNC_MAX_ATTEMPTS",
] as const;

let emulator: Emulator;
let savedEnv: Record<string, string | undefined> = {};

beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  const fresh = defaultAccounts();
  for (const p of PROVIDERS) emulator.setAccount(p, fresh[p]);
  emulator.clearFaults();
  emulator.resetRequests();
  emulator.vultrBucketEndpoint = "available";
  emulator.vultrS3SecretOverrides = {};
  useEmulator(emulator);
});
afterEach(() => {
  vi.restoreAllMocks();
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});

// ---------------------------------------------------------------------------
// Helpers

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs every scheduled function (syncs, purges) to the end. */
async function settle(t: TestConvex) {
  for (let i = 0; i < 4000; i++) {
    await t.finishInProgressScheduledFunctions();
    const open = await t.run(
      async (ctx) =>
        (await ctx.db.system.query("_scheduled_functions").collect()).filter(
          (f) => f.state.kind === "pending" || f.state.kind === "inProgress",
        ).length,
    );
    if (open === 0) return;
    await sleep(5);
  }
  throw new Error("scheduled functions did not settle");
}

type Outcome = { ok: unknown } | { code: string } | { validator: true } | { thrown: string };

/** What a call did: its value, its ConvexError code, or an argument-validation rejection. */
async function outcome(call: Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: await call };
  } catch (e) {
    const data = (e as { data?: unknown }).data;
    if (typeof data === "object" && data !== null && "code" in data) return { code: String(data.code) };
    const message = e instanceof Error ? e.message : String(e);
    if (message.startsWith("Validator error")) return { validator: true };
    return { thrown: message };
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function isArrayBuffer(value: unknown): value is ArrayBuffer {
  return Object.prototype.toString.call(value) === "[object ArrayBuffer]";
}

/** A JSON-comparable copy: bytes become hex strings so they are compared (and searched) too. */
function plain(value: unknown): unknown {
  if (isArrayBuffer(value)) return `bytes:${hex(new Uint8Array(value))}`;
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

const TABLES = [
  "users",
  "organizations",
  "memberships",
  "docks",
  "auditLogs",
  "projects",
  "projectResources",
  "servers",
  "webServices",
  "domains",
  "databases",
  "blockVolumes",
  "buckets",
  "storageTotals",
  "storageTotalsRebuilds",
] as const satisfies readonly TableNames[];

/** Every document of every table, plus the scheduler's queue (with its arguments). */
async function dump(t: TestConvex): Promise<Record<string, unknown>> {
  return await t.run(async (ctx) => {
    const out: Record<string, unknown> = {};
    for (const table of TABLES) out[table] = plain(await ctx.db.query(table as "users").collect());
    out._scheduled_functions = plain(await ctx.db.system.query("_scheduled_functions").collect());
    return out;
  });
}

// A secret counts as leaked when any 12-character piece of it shows up (so a
// truncated or partly redacted copy is caught too), as text or as hex bytes,
// or when the whole of it shows up in base64.
const LEAK_WINDOW = 12;

function leakForms(secret: string): string[] {
  const forms = [btoa(String.fromCharCode(...new TextEncoder().encode(secret)))];
  for (let i = 0; i + LEAK_WINDOW <= secret.length; i++) {
    const piece = secret.slice(i, i + LEAK_WINDOW);
    forms.push(piece, hex(new TextEncoder().encode(piece)));
  }
  return forms;
}

/** The secrets (random canaries) of which some piece appears in `haystack`. */
function leaked(haystack: string, secrets: string[]): string[] {
  return secrets.filter((s) => leakForms(s).some((form) => haystack.includes(form)));
}

/** Records everything written to the console (and prints nothing). */
function captureConsole() {
  const lines: string[] = [];
  const render = (arg: unknown): string => {
    if (arg instanceof Error) {
      return `${arg.name} ${arg.message} ${arg.stack ?? ""} ${JSON.stringify((arg as { data?: unknown }).data ?? null)}`;
    }
    if (typeof arg === "string") return arg;
    try {
      return JSON.stringify(plain(arg));
    } catch {
      return String(arg);
    }
  };
  for (const method of ["log", "info", "warn", "error", "debug", "trace"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(render).join(" "));
    });
  }
  return lines;
}

// ---------------------------------------------------------------------------
// The world every access test starts from: a target org with one member of
// each role, another org whose owner is the outsider, a dock and one row of
// every synced type in each org, an audit entry and a project link in each.

type Client = Pick<TestConvex, "query" | "mutation" | "action">;
type CallerName = "anonymous" | "unstored" | "outsider" | "viewer" | "member" | "admin" | "owner";
const CALLERS: readonly CallerName[] = ["anonymous", "unstored", "outsider", "viewer", "member", "admin", "owner"];
const UNSTORED_TOKEN = "https://auth.test|signed-in-but-never-stored";

async function seedRows(t: TestConvex, orgId: Id<"organizations">, dockId: Id<"docks">, tag: string) {
  return await t.run(async (ctx) => {
    const base = { orgId, dockId, provider: "vultr" as const, status: "active", updatedAt: 0 };
    const server = await ctx.db.insert("servers", {
      ...base,
      providerResourceId: `srv-${tag}`,
      name: `srv-${tag}`,
      region: "ewr",
      fullApiData: { instance: { id: `srv-${tag}` } },
    });
    const volume = await ctx.db.insert("blockVolumes", {
      ...base,
      providerResourceId: `vol-${tag}`,
      name: `vol-${tag}`,
      sizeGb: 10,
      region: "ewr",
      fullApiData: { block: { id: `vol-${tag}` } },
    });
    const bucket = await ctx.db.insert("buckets", {
      ...base,
      providerResourceId: `ewr/bucket-${tag}`,
      name: `bucket-${tag}`,
      region: "ewr",
      sizeBytes: 0,
      objectCount: 0,
      fullApiData: { bucket: { label: `bucket-${tag}` } },
    });
    const projectId = await ctx.db.insert("projects", { orgId, name: `project-${tag}` });
    await ctx.db.insert("projectResources", { orgId, projectId, resourceTable: "blockVolumes", resourceId: volume });
    // Rows written here, not by a sync: their storage totals are built as a
    // deployment builds those of rows older than the totals table.
    const runId = (await startRebuild(ctx, dockId))!;
    while (await rebuildBatch(ctx, dockId, runId));
    const dock = (await ctx.db.get("docks", dockId))!;
    await ctx.db.insert("auditLogs", {
      orgId,
      action: "dock.created",
      dockId,
      dockName: dock.name,
      provider: dock.provider,
      at: 0,
    });
    return { server, volume, bucket, projectId };
  });
}

async function world() {
  const t = newTest();
  const orgId = await seedOrg(t, "Target");
  const otherOrgId = await seedOrg(t, "Other");
  const outsider = await seedMember(t, otherOrgId, "owner");
  const viewer = await seedMember(t, orgId, "viewer");
  const member = await seedMember(t, orgId, "member");
  const admin = await seedMember(t, orgId, "admin");
  const owner = await seedMember(t, orgId, "owner");
  const secondOwner = await seedMember(t, orgId, "owner");
  const removable = await seedMember(t, orgId, "member");
  const candidate = await seedMember(t, null);
  const token = emulator.accounts.vultr.token;
  const dockId = await seedDock(t, orgId, "vultr", token, { name: "Target dock" });
  const otherDockId = await seedDock(t, otherOrgId, "vultr", token, { name: "Other dock" });
  // Typed as a person might: other case, stray spaces (the lookup ignores both).
  const candidateEmail = ` ${(await t.run((ctx) => ctx.db.get("users", candidate.userId)))!.email.toUpperCase()} `;
  const rows = await seedRows(t, orgId, dockId, "target");
  const otherRows = await seedRows(t, otherOrgId, otherDockId, "other");
  const callers: Record<CallerName, Client> = {
    anonymous: t,
    unstored: t.withIdentity({ tokenIdentifier: UNSTORED_TOKEN, subject: "never-stored", name: "Ghost" }),
    outsider: outsider.as,
    viewer: viewer.as,
    member: member.as,
    admin: admin.as,
    owner: owner.as,
  };
  const userIds: Partial<Record<CallerName, Id<"users">>> = {
    outsider: outsider.userId,
    viewer: viewer.userId,
    member: member.userId,
    admin: admin.userId,
    owner: owner.userId,
  };
  return {
    t,
    orgId,
    otherOrgId,
    callers,
    userIds,
    secondOwnerId: secondOwner.userId,
    removableId: removable.userId,
    candidateId: candidate.userId,
    candidateEmail,
    otherOwnerId: outsider.userId,
    token,
    dockId,
    otherDockId,
    rows,
    otherRows,
  };
}
type World = Awaited<ReturnType<typeof world>>;

async function roleOf(w: World, orgId: Id<"organizations">, userId: Id<"users">) {
  const m = await w.t.run((ctx) =>
    ctx.db
      .query("memberships")
      .withIndex("by_org_user", (q) => q.eq("orgId", orgId).eq("userId", userId))
      .unique(),
  );
  return m?.role ?? null;
}

async function auditActions(w: World) {
  const entries = await w.t.run((ctx) =>
    ctx.db
      .query("auditLogs")
      .withIndex("by_orgId", (q) => q.eq("orgId", w.orgId))
      .collect(),
  );
  return entries.map((e) => ({ action: e.action, actorId: e.actorId, dockId: e.dockId }));
}

const EMPTY_PAGE = { page: [], isDone: true, continueCursor: "" };
const NO_MATCHES = { results: [], hasMore: false };
const PAGE = { numItems: 50, cursor: null };

// ---------------------------------------------------------------------------
// 1. The access matrix

type Kind = "query" | "mutation" | "action";
type OkCheck = (result: unknown, w: World, caller: CallerName) => Promise<void> | void;
type Expectation = { ok: OkCheck } | { code: ErrorCode } | { empty: unknown };

interface Case {
  ref: FunctionReference<Kind, "public">;
  kind: Kind;
  variant?: string;
  // Shapes the world for this function before the snapshot a denied call is compared with.
  prepare?: (w: World) => Promise<unknown>;
  call: (c: Client, w: World) => Promise<unknown>;
  expect: Record<CallerName, Expectation>;
}

/**
 * State-changing functions: UNAUTHENTICATED without a stored user, FORBIDDEN
 * below `minimum`; outside the org FORBIDDEN for functions that take an
 * orgId, NOT_FOUND for those that take a dockId (a stranger cannot tell a
 * live dock id from a gone one).
 */
function gated(
  minimum: Role,
  ok: OkCheck,
  outside: ErrorCode = "FORBIDDEN",
): Record<CallerName, Expectation> {
  const byRole = (r: Role): Expectation => (roleAtLeast(r, minimum) ? { ok } : { code: "FORBIDDEN" });
  return {
    anonymous: { code: "UNAUTHENTICATED" },
    unstored: { code: "UNAUTHENTICATED" },
    outsider: { code: outside },
    viewer: byRole("viewer"),
    member: byRole("member"),
    admin: byRole("admin"),
    owner: byRole("owner"),
  };
}

/** Dashboard reads of the target org: UNAUTHENTICATED without identity, the documented empty answer below `minimum`. */
function readGated(minimum: Role, empty: unknown, ok: OkCheck): Record<CallerName, Expectation> {
  const byRole = (r: Role): Expectation => (roleAtLeast(r, minimum) ? { ok } : { empty });
  return {
    anonymous: { code: "UNAUTHENTICATED" },
    unstored: { empty },
    outsider: { empty },
    viewer: byRole("viewer"),
    member: byRole("member"),
    admin: byRole("admin"),
    owner: byRole("owner"),
  };
}

/** Reads without orgId: each caller sees exactly the orgs they belong to. */
function ownOrgsOnly(ok: OkCheck): Record<CallerName, Expectation> {
  return {
    anonymous: { code: "UNAUTHENTICATED" },
    unstored: { empty: [] },
    outsider: { ok },
    viewer: { ok },
    member: { ok },
    admin: { ok },
    owner: { ok },
  };
}

/** Rows answered to `caller` without orgId: the target org's for its members, the other org's for the outsider. */
function expectOwnOrgRows(field: "server" | "volume" | "bucket"): OkCheck {
  return (result, w, caller) => {
    const rows = result as { _id: string; orgId: string }[];
    const mine = caller === "outsider" ? w.otherRows : w.rows;
    const orgId = caller === "outsider" ? w.otherOrgId : w.orgId;
    expect(rows.map((r) => r._id)).toEqual([mine[field]]);
    expect(rows.every((r) => r.orgId === orgId)).toBe(true);
  };
}

function expectTargetRows(field: "server" | "volume" | "bucket"): OkCheck {
  return (result, w) => expect((result as { _id: string }[]).map((r) => r._id)).toEqual([w.rows[field]]);
}

function expectTargetPage(field: "server" | "volume" | "bucket"): OkCheck {
  return (result, w) => expect((result as { page: { _id: string }[] }).page.map((r) => r._id)).toEqual([w.rows[field]]);
}

/** The storage summary where the caller may see nothing. */
const EMPTY_SUMMARY = summarize([], []);

/** The summary of one org's seeded rows: one 10 GB unattached volume and one empty bucket, unpriced, in ewr. */
function expectSeededSummary(result: unknown) {
  const summary = result as ReturnType<typeof summarize>;
  expect(summary.blockVolumes.byRegion).toEqual([
    {
      provider: "vultr",
      region: "ewr",
      totals: {
        count: 1,
        sizeGb: 10,
        unsizedCount: 0,
        unattachedCount: 1,
        unattachedGb: 10,
        knownMonthlyCost: 0,
        unpricedCount: 1,
      },
    },
  ]);
  expect(summary.buckets.total).toEqual({
    count: 1,
    sizeBytes: 0,
    objectCount: 0,
    unsizedCount: 0,
    knownMonthlyCost: 0,
    unpricedCount: 1,
  });
}

const CASES: Case[] = [
  {
    ref: api.users.storeUser,
    kind: "mutation",
    call: (c) => c.mutation(api.users.storeUser, {}),
    expect: {
      anonymous: { code: "UNAUTHENTICATED" },
      ...Object.fromEntries(
        (["unstored", "outsider", "viewer", "member", "admin", "owner"] as const).map((caller) => [
          caller,
          {
            ok: async (result: unknown, w: World) => {
              const stored = await w.t.run((ctx) => ctx.db.get("users", result as Id<"users">));
              if (caller === "unstored") expect(stored?.tokenIdentifier).toBe(UNSTORED_TOKEN);
              else expect(result).toBe(w.userIds[caller]);
            },
          },
        ]),
      ),
    } as Record<CallerName, Expectation>,
  },
  {
    ref: api.organizations.createOrganization,
    kind: "mutation",
    call: (c) => c.mutation(api.organizations.createOrganization, { name: "New org" }),
    expect: {
      anonymous: { code: "UNAUTHENTICATED" },
      // An identity alone is not enough: storeUser must have run first.
      unstored: { code: "UNAUTHENTICATED" },
      ...Object.fromEntries(
        (["outsider", "viewer", "member", "admin", "owner"] as const).map((caller) => [
          caller,
          {
            ok: async (result: unknown, w: World) =>
              expect(await roleOf(w, result as Id<"organizations">, w.userIds[caller]!)).toBe("owner"),
          },
        ]),
      ),
    } as Record<CallerName, Expectation>,
  },
  {
    ref: api.organizations.setMemberRole,
    kind: "mutation",
    variant: "add a member",
    call: (c, w) =>
      c.mutation(api.organizations.setMemberRole, { orgId: w.orgId, userId: w.candidateId, role: "member" }),
    expect: gated("admin", async (_r, w) => expect(await roleOf(w, w.orgId, w.candidateId)).toBe("member")),
  },
  {
    ref: api.organizations.setMemberRole,
    kind: "mutation",
    variant: "grant owner",
    call: (c, w) =>
      c.mutation(api.organizations.setMemberRole, { orgId: w.orgId, userId: w.candidateId, role: "owner" }),
    expect: gated("owner", async (_r, w) => expect(await roleOf(w, w.orgId, w.candidateId)).toBe("owner")),
  },
  {
    ref: api.organizations.setMemberRole,
    kind: "mutation",
    variant: "demote an owner",
    call: (c, w) =>
      c.mutation(api.organizations.setMemberRole, { orgId: w.orgId, userId: w.secondOwnerId, role: "admin" }),
    expect: gated("owner", async (_r, w) => expect(await roleOf(w, w.orgId, w.secondOwnerId)).toBe("admin")),
  },
  {
    ref: api.organizations.addMemberByEmail,
    kind: "mutation",
    variant: "add a member",
    call: (c, w) =>
      c.mutation(api.organizations.addMemberByEmail, { orgId: w.orgId, email: w.candidateEmail, role: "member" }),
    expect: gated("admin", async (result, w) => {
      expect(result).toBe(w.candidateId);
      expect(await roleOf(w, w.orgId, w.candidateId)).toBe("member");
    }),
  },
  {
    ref: api.organizations.addMemberByEmail,
    kind: "mutation",
    variant: "grant owner",
    call: (c, w) =>
      c.mutation(api.organizations.addMemberByEmail, { orgId: w.orgId, email: w.candidateEmail, role: "owner" }),
    expect: gated("owner", async (_r, w) => expect(await roleOf(w, w.orgId, w.candidateId)).toBe("owner")),
  },
  {
    ref: api.organizations.removeMember,
    kind: "mutation",
    variant: "remove a member",
    call: (c, w) => c.mutation(api.organizations.removeMember, { orgId: w.orgId, userId: w.removableId }),
    expect: gated("admin", async (_r, w) => expect(await roleOf(w, w.orgId, w.removableId)).toBeNull()),
  },
  {
    ref: api.organizations.removeMember,
    kind: "mutation",
    variant: "remove an owner",
    call: (c, w) => c.mutation(api.organizations.removeMember, { orgId: w.orgId, userId: w.secondOwnerId }),
    expect: gated("owner", async (_r, w) => expect(await roleOf(w, w.orgId, w.secondOwnerId)).toBeNull()),
  },
  {
    ref: api.organizations.leaveOrganization,
    kind: "mutation",
    call: (c, w) => c.mutation(api.organizations.leaveOrganization, { orgId: w.orgId }),
    // Every member may leave (the owner too: the org has a second owner).
    expect: gated("viewer", async (_r, w, caller) => {
      expect(await roleOf(w, w.orgId, w.userIds[caller]!)).toBeNull();
      expect(await w.callers[caller].query(api.docks.queries.listDocks, {})).toEqual([]);
    }),
  },
  {
    ref: api.users.me,
    kind: "query",
    call: (c) => c.query(api.users.me, {}),
    expect: {
      anonymous: { empty: null },
      unstored: { empty: null },
      ...Object.fromEntries(
        (["outsider", "viewer", "member", "admin", "owner"] as const).map((caller) => [
          caller,
          {
            ok: (result: unknown, w: World) => {
              // Only the caller's own row, and never its tokenIdentifier.
              expect(Object.keys(result as object).sort()).toEqual(["_id", "email", "name"]);
              expect((result as { _id: string })._id).toBe(w.userIds[caller]);
            },
          },
        ]),
      ),
    } as Record<CallerName, Expectation>,
  },
  {
    ref: api.organizations.listMine,
    kind: "query",
    call: (c) => c.query(api.organizations.listMine, {}),
    expect: ownOrgsOnly((result, w, caller) =>
      expect(result).toEqual([
        caller === "outsider"
          ? { orgId: w.otherOrgId, name: "Other", role: "owner" }
          : { orgId: w.orgId, name: "Target", role: caller },
      ]),
    ),
  },
  {
    ref: api.organizations.listMembers,
    kind: "query",
    call: (c, w) => c.query(api.organizations.listMembers, { orgId: w.orgId }),
    expect: readGated("member", [], (result, w) => {
      const members = result as Record<string, unknown>[];
      expect(members.map((m) => m.userId)).toEqual([
        w.userIds.viewer,
        w.userIds.member,
        w.userIds.admin,
        w.userIds.owner,
        w.secondOwnerId,
        w.removableId,
      ]);
      expect(members.every((m) => Object.keys(m).sort().join() === "email,name,role,userId")).toBe(true);
    }),
  },
  {
    ref: api.docks.actions.createDock,
    kind: "action",
    call: (c, w) =>
      c.action(api.docks.actions.createDock, { orgId: w.orgId, name: "New dock", provider: "vultr", apiKey: w.token }),
    expect: gated("admin", async (result, w) => {
      const dock = await w.t.run((ctx) => ctx.db.get("docks", result as Id<"docks">));
      expect(dock).toMatchObject({
        orgId: w.orgId,
        name: "New dock",
        lastSyncStatus: "success",
        accountId: `email:${emulator.accounts.vultr.owner.email}`,
      });
    }),
  },
  {
    ref: api.docks.actions.rotateDockKey,
    kind: "action",
    call: (c, w) => c.action(api.docks.actions.rotateDockKey, { dockId: w.dockId, apiKey: w.token }),
    expect: gated(
      "admin",
      async (_r, w, caller) => {
        expect(await auditActions(w)).toContainEqual({
          action: "dock.keyRotated",
          actorId: w.userIds[caller],
          dockId: w.dockId,
        });
        // The world's dock predates account identities: it takes the rotated key's.
        expect((await w.t.run((ctx) => ctx.db.get("docks", w.dockId)))?.accountId).toBe(
          `email:${emulator.accounts.vultr.owner.email}`,
        );
      },
      "NOT_FOUND",
    ),
  },
  {
    ref: api.docks.mutations.syncDock,
    kind: "mutation",
    call: (c, w) => c.mutation(api.docks.mutations.syncDock, { dockId: w.dockId }),
    expect: gated("member", async (_r, w, caller) => {
      expect(await auditActions(w)).toContainEqual({
        action: "dock.syncRequested",
        actorId: w.userIds[caller],
        dockId: w.dockId,
      });
      expect((await w.t.run((ctx) => ctx.db.get("docks", w.dockId)))?.lastSyncStatus).toBe("success");
    }, "NOT_FOUND"),
  },
  {
    ref: api.docks.mutations.renameDock,
    kind: "mutation",
    call: (c, w) => c.mutation(api.docks.mutations.renameDock, { dockId: w.dockId, name: "Renamed" }),
    expect: gated("admin", async (_r, w) =>
      expect((await w.t.run((ctx) => ctx.db.get("docks", w.dockId)))?.name).toBe("Renamed"),
      "NOT_FOUND",
    ),
  },
  {
    ref: api.docks.actions.setDockSpacesKey,
    kind: "action",
    // The world's dock is Vultr's; a Spaces key belongs to a DigitalOcean dock.
    prepare: (w) => w.t.run((ctx) => ctx.db.patch("docks", w.dockId, { provider: "digitalocean" })),
    call: async (c, w) => {
      const key = emulator.accounts.digitalocean.spacesKey!;
      return await c.action(api.docks.actions.setDockSpacesKey, {
        dockId: w.dockId,
        accessKeyId: key.accessKeyId,
        secretAccessKey: key.secretAccessKey,
      });
    },
    expect: gated(
      "admin",
      async (_r, w, caller) => {
        expect((await w.t.run((ctx) => ctx.db.get("docks", w.dockId)))?.encryptedSpacesKey).toBeDefined();
        expect(await auditActions(w)).toContainEqual({ action: "dock.spacesKeySet", actorId: w.userIds[caller], dockId: w.dockId });
      },
      "NOT_FOUND",
    ),
  },
  {
    ref: api.docks.mutations.removeDockSpacesKey,
    kind: "mutation",
    prepare: (w) =>
      w.t.run((ctx) =>
        ctx.db.patch("docks", w.dockId, { provider: "digitalocean", encryptedSpacesKey: new Uint8Array(40).buffer }),
      ),
    call: (c, w) => c.mutation(api.docks.mutations.removeDockSpacesKey, { dockId: w.dockId }),
    expect: gated(
      "admin",
      async (_r, w, caller) => {
        expect((await w.t.run((ctx) => ctx.db.get("docks", w.dockId)))?.encryptedSpacesKey).toBeUndefined();
        expect(await auditActions(w)).toContainEqual({ action: "dock.spacesKeyRemoved", actorId: w.userIds[caller], dockId: w.dockId });
      },
      "NOT_FOUND",
    ),
  },
  {
    ref: api.docks.mutations.setDockSyncInterval,
    kind: "mutation",
    call: (c, w) => c.mutation(api.docks.mutations.setDockSyncInterval, { dockId: w.dockId, syncIntervalMs: 60 * 60_000 }),
    expect: gated(
      "admin",
      async (_r, w) =>
        expect((await w.t.run((ctx) => ctx.db.get("docks", w.dockId)))?.syncIntervalMs).toBe(60 * 60_000),
      "NOT_FOUND",
    ),
  },
  {
    ref: api.docks.mutations.deleteDock,
    kind: "mutation",
    call: (c, w) => c.mutation(api.docks.mutations.deleteDock, { dockId: w.dockId }),
    expect: gated("admin", async (_r, w) => {
      expect(await w.t.run((ctx) => ctx.db.get("docks", w.dockId))).toBeNull();
      expect(await w.t.run((ctx) => ctx.db.get("blockVolumes", w.rows.volume))).toBeNull();
      // The other org's dock and rows are untouched.
      expect(await w.t.run((ctx) => ctx.db.get("blockVolumes", w.otherRows.volume))).not.toBeNull();
    }, "NOT_FOUND"),
  },
  {
    ref: api.docks.queries.listDocks,
    kind: "query",
    variant: "orgId = target",
    call: (c, w) => c.query(api.docks.queries.listDocks, { orgId: w.orgId }),
    expect: readGated("viewer", [], (result, w) => {
      const docks = result as Record<string, unknown>[];
      expect(docks.map((d) => d._id)).toEqual([w.dockId]);
      expect(Object.keys(docks[0])).not.toContain("encryptedApiKey");
      expect(Object.keys(docks[0])).not.toContain("syncLeaseId");
    }),
  },
  {
    ref: api.docks.queries.listDocks,
    kind: "query",
    variant: "no orgId",
    call: (c) => c.query(api.docks.queries.listDocks, {}),
    expect: ownOrgsOnly((result, w, caller) =>
      expect((result as { _id: string }[]).map((d) => d._id)).toEqual([
        caller === "outsider" ? w.otherDockId : w.dockId,
      ]),
    ),
  },
  {
    ref: api.docks.queries.getDock,
    kind: "query",
    call: (c, w) => c.query(api.docks.queries.getDock, { dockId: w.dockId }),
    expect: readGated("viewer", null, (result, w) => {
      const dock = result as Record<string, unknown>;
      expect(dock._id).toBe(w.dockId);
      expect(Object.keys(dock)).not.toContain("encryptedApiKey");
      expect(Object.keys(dock)).not.toContain("syncLeaseId");
      expect(Object.keys(dock)).not.toContain("syncJobId");
    }),
  },
  {
    ref: api.docks.queries.listAuditLogs,
    kind: "query",
    call: (c, w) => c.query(api.docks.queries.listAuditLogs, { orgId: w.orgId, paginationOpts: PAGE }),
    expect: readGated("admin", EMPTY_PAGE, (result, w) => {
      const page = (result as { page: Doc<"auditLogs">[] }).page;
      expect(page.length).toBe(1);
      expect(page.every((e) => e.orgId === w.orgId)).toBe(true);
    }),
  },
  {
    ref: api.resources.queries.listServers,
    kind: "query",
    variant: "orgId = target",
    call: (c, w) => c.query(api.resources.queries.listServers, { orgId: w.orgId }),
    expect: readGated("viewer", [], expectTargetRows("server")),
  },
  {
    ref: api.resources.queries.listServers,
    kind: "query",
    variant: "no orgId",
    call: (c) => c.query(api.resources.queries.listServers, {}),
    expect: ownOrgsOnly(expectOwnOrgRows("server")),
  },
  {
    ref: api.resources.queries.listBlockVolumes,
    kind: "query",
    variant: "orgId = target",
    call: (c, w) => c.query(api.resources.queries.listBlockVolumes, { orgId: w.orgId }),
    expect: readGated("viewer", [], expectTargetRows("volume")),
  },
  {
    ref: api.resources.queries.listBlockVolumes,
    kind: "query",
    variant: "no orgId",
    call: (c) => c.query(api.resources.queries.listBlockVolumes, {}),
    expect: ownOrgsOnly(expectOwnOrgRows("volume")),
  },
  {
    ref: api.resources.queries.listBuckets,
    kind: "query",
    variant: "orgId = target",
    call: (c, w) => c.query(api.resources.queries.listBuckets, { orgId: w.orgId }),
    expect: readGated("viewer", [], expectTargetRows("bucket")),
  },
  {
    ref: api.resources.queries.listBuckets,
    kind: "query",
    variant: "no orgId",
    call: (c) => c.query(api.resources.queries.listBuckets, {}),
    expect: ownOrgsOnly(expectOwnOrgRows("bucket")),
  },
  {
    ref: api.resources.queries.paginateServers,
    kind: "query",
    call: (c, w) => c.query(api.resources.queries.paginateServers, { orgId: w.orgId, paginationOpts: PAGE }),
    expect: readGated("viewer", EMPTY_PAGE, expectTargetPage("server")),
  },
  {
    ref: api.resources.queries.paginateBlockVolumes,
    kind: "query",
    call: (c, w) => c.query(api.resources.queries.paginateBlockVolumes, { orgId: w.orgId, paginationOpts: PAGE }),
    expect: readGated("viewer", EMPTY_PAGE, expectTargetPage("volume")),
  },
  {
    ref: api.resources.queries.paginateBuckets,
    kind: "query",
    call: (c, w) => c.query(api.resources.queries.paginateBuckets, { orgId: w.orgId, paginationOpts: PAGE }),
    expect: readGated("viewer", EMPTY_PAGE, expectTargetPage("bucket")),
  },
  {
    ref: api.resources.queries.paginateBlockVolumes,
    kind: "query",
    variant: "provider, region, unattached, by size",
    call: (c, w) =>
      c.query(api.resources.queries.paginateBlockVolumes, {
        orgId: w.orgId,
        provider: "vultr",
        region: "ewr",
        unattachedOnly: true,
        sort: "size",
        paginationOpts: PAGE,
      }),
    expect: readGated("viewer", EMPTY_PAGE, expectTargetPage("volume")),
  },
  {
    ref: api.resources.queries.paginateBuckets,
    kind: "query",
    variant: "dock, by name",
    call: (c, w) =>
      c.query(api.resources.queries.paginateBuckets, { orgId: w.orgId, dockId: w.dockId, sort: "name", paginationOpts: PAGE }),
    expect: readGated("viewer", EMPTY_PAGE, expectTargetPage("bucket")),
  },
  ...(["volume", "bucket"] as const).flatMap((field): Case[] => {
    const ref = field === "volume" ? api.resources.search.searchBlockVolumes : api.resources.search.searchBuckets;
    const found = (result: unknown) => (result as { results: { _id: string }[] }).results.map((r) => r._id);
    // The seeded names are "vol-<tag>" and "bucket-<tag>".
    const text = field === "volume" ? "vol" : "bucket";
    return [
      {
        ref,
        kind: "query",
        variant: "orgId = target",
        call: (c, w) => c.query(ref, { text, orgId: w.orgId }),
        expect: readGated("viewer", NO_MATCHES, (result, w) => expect(found(result)).toEqual([w.rows[field]])),
      },
      {
        ref,
        kind: "query",
        variant: "no orgId",
        call: (c) => c.query(ref, { text }),
        expect: {
          ...ownOrgsOnly((result, w, caller) =>
            expect(found(result)).toEqual([(caller === "outsider" ? w.otherRows : w.rows)[field]]),
          ),
          unstored: { empty: NO_MATCHES },
        },
      },
    ];
  }),
  {
    ref: api.resources.summary.getStorageSummary,
    kind: "query",
    variant: "orgId = target",
    call: (c, w) => c.query(api.resources.summary.getStorageSummary, { orgId: w.orgId }),
    expect: readGated("viewer", EMPTY_SUMMARY, expectSeededSummary),
  },
  {
    ref: api.resources.summary.getStorageSummary,
    kind: "query",
    variant: "no orgId",
    call: (c) => c.query(api.resources.summary.getStorageSummary, {}),
    // Each org holds the same seeded rows: the outsider sees its own org's.
    expect: { ...ownOrgsOnly(expectSeededSummary), unstored: { empty: EMPTY_SUMMARY } },
  },
  {
    ref: api.resources.summary.getStorageSummary,
    kind: "query",
    variant: "dockId = target dock",
    call: (c, w) => c.query(api.resources.summary.getStorageSummary, { dockId: w.dockId }),
    expect: readGated("viewer", EMPTY_SUMMARY, expectSeededSummary),
  },
];

const nameOf = (c: Case) => getFunctionName(c.ref);
const MATRIX_FUNCTIONS = [...new Set(CASES.map(nameOf))].sort();

function describeExpectation(e: Expectation): string {
  if ("code" in e) return e.code;
  if ("empty" in e) return `empty ${JSON.stringify(e.empty)}`;
  return "allowed";
}

const CELLS = CASES.flatMap((kase) =>
  CALLERS.map((caller) => ({
    kase,
    caller,
    label: `${nameOf(kase)}${kase.variant ? ` (${kase.variant})` : ""} as ${caller} -> ${describeExpectation(kase.expect[caller])}`,
  })),
);

// 25 public functions × 7 callers = 175 function/caller pairs; with the
// variants (setMemberRole ×3, addMemberByEmail ×2, removeMember ×2, the array
// queries and searches with and without orgId, the volume and bucket pages with
// filters and sort) the table has 37 rows × 7 callers = 259 cells.
describe(`access matrix: ${MATRIX_FUNCTIONS.length} functions × ${CALLERS.length} callers = ${
  MATRIX_FUNCTIONS.length * CALLERS.length
} pairs, ${CELLS.length} cells with variants`, () => {
  test.each(CELLS.map((cell) => [cell.label, cell] as const))("%s", async (_label, { kase, caller }) => {
    const w = await world();
    await kase.prepare?.(w);
    const before = await dump(w.t);
    const result = await outcome(kase.call(w.callers[caller], w));
    await settle(w.t);
    const expected = kase.expect[caller];
    if ("code" in expected) {
      expect(result).toEqual({ code: expected.code });
      expect(await dump(w.t)).toEqual(before);
    } else if ("empty" in expected) {
      expect(result).toEqual({ ok: expected.empty });
      expect(await dump(w.t)).toEqual(before);
    } else {
      expect(result).toHaveProperty("ok");
      await expected.ok((result as { ok: unknown }).ok, w, caller);
    }
  });
});

describe("roles", () => {
  test("the org's last owner cannot be demoted, not even by themselves: INVALID_ARGUMENT, nothing written", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as, userId } = await seedMember(t, orgId, "owner");
    await seedMember(t, orgId, "admin");
    const before = await dump(t);
    expect(await outcome(as.mutation(api.organizations.setMemberRole, { orgId, userId, role: "admin" }))).toEqual({
      code: "INVALID_ARGUMENT",
    });
    expect(await dump(t)).toEqual(before);
  });

  test("the org's last owner cannot be removed or leave, not even by themselves: INVALID_ARGUMENT, nothing written", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as, userId } = await seedMember(t, orgId, "owner");
    await seedMember(t, orgId, "admin");
    const before = await dump(t);
    expect(await outcome(as.mutation(api.organizations.removeMember, { orgId, userId }))).toEqual({
      code: "INVALID_ARGUMENT",
    });
    expect(await outcome(as.mutation(api.organizations.leaveOrganization, { orgId }))).toEqual({
      code: "INVALID_ARGUMENT",
    });
    expect(await dump(t)).toEqual(before);
  });

  test("an admin cannot remove an owner, even with another owner left", async () => {
    const w = await world();
    await expectNoWrite(
      w,
      () => w.callers.admin.mutation(api.organizations.removeMember, { orgId: w.orgId, userId: w.userIds.owner! }),
      { code: "FORBIDDEN" },
    );
  });

  test("an admin cannot make themselves owner", async () => {
    const w = await world();
    await expectNoWrite(
      w,
      () =>
        w.callers.admin.mutation(api.organizations.setMemberRole, {
          orgId: w.orgId,
          userId: w.userIds.admin!,
          role: "owner",
        }),
      { code: "FORBIDDEN" },
    );
  });
});

// ---------------------------------------------------------------------------
// The matrix covers every public function, found by loading the modules.

type Registered = {
  isQuery?: boolean;
  isMutation?: boolean;
  isAction?: boolean;
  isHttp?: boolean;
  isPublic?: boolean;
  exportArgs?: () => string;
};

/** Module paths as api.d.ts names them ("docks/actions"). */
function modulesInApiDts(): string[] {
  const block = /declare const fullApi: ApiFromModules<\{([\s\S]*?)\}>;/.exec(apiDts);
  if (block === null) throw new Error("api.d.ts has no fullApi block");
  return [...block[1].matchAll(/^\s*"?([\w/.-]+)"?: typeof \w+;/gm)].map((m) => m[1]);
}

/** Module paths of every deployable file on disk (what codegen would list). */
function modulesOnDisk(): string[] {
  return (
    Object.keys(modules)
      .filter((p) => p.endsWith(".ts") && !p.endsWith(".test.ts") && !p.endsWith("test.setup.ts"))
      .filter((p) => !p.startsWith("./_generated/"))
      // Convex deploys these as configuration, not as function modules.
      .filter((p) => !["./schema.ts", "./auth.config.ts", "./convex.config.ts"].includes(p))
      .map((p) => p.slice(2, -3))
  );
}

async function publicFunctions() {
  const paths = [...new Set([...modulesInApiDts(), ...modulesOnDisk()])];
  const found: { name: string; kind: Kind | "http"; args: string }[] = [];
  for (const path of paths) {
    const load = modules[`./${path}.ts`];
    if (load === undefined) throw new Error(`module ${path} is listed in api.d.ts but missing on disk`);
    const exports = (await load()) as Record<string, unknown>;
    for (const [exportName, value] of Object.entries(exports)) {
      if (typeof value !== "function" && (typeof value !== "object" || value === null)) continue;
      const fn = value as Registered;
      if (!(fn.isPublic === true || fn.isHttp === true)) continue;
      const kind = fn.isQuery ? "query" : fn.isMutation ? "mutation" : fn.isAction ? "action" : "http";
      found.push({ name: `${path}:${exportName}`, kind, args: fn.exportArgs?.() ?? "{}" });
    }
  }
  return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Table names of every v.id(...) in an exported args validator. */
function idTables(exportedArgs: string): string[] {
  const tables: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === "object") {
      const o = node as Record<string, unknown>;
      if (o.type === "id" && typeof o.tableName === "string") tables.push(o.tableName);
      Object.values(o).forEach(walk);
    }
  };
  walk(JSON.parse(exportedArgs));
  return tables;
}

describe("matrix coverage", () => {
  test("every public function (queries, mutations, actions, http) is in the access matrix, with its kind", async () => {
    const found = await publicFunctions();
    expect(found.map((f) => f.name)).toEqual(MATRIX_FUNCTIONS);
    for (const f of found) {
      const kinds = new Set(CASES.filter((c) => nameOf(c) === f.name).map((c) => c.kind));
      expect([...kinds], f.name).toEqual([f.kind]);
    }
  });

  test("api.d.ts lists exactly the deployable modules on disk (stale codegen cannot hide a function)", () => {
    expect([...modulesInApiDts()].sort()).toEqual([...modulesOnDisk()].sort());
  });

  test("the write-check snapshot covers every table of the schema", () => {
    expect([...TABLES].sort()).toEqual(Object.keys(schema.tables).sort());
  });

  test("no public function takes a URL, host or endpoint: provider addresses come from the deployment's environment only", async () => {
    for (const f of await publicFunctions()) {
      const fields = [...f.args.matchAll(/"([A-Za-z_]+)":\{"fieldType"/g)].map((m) => m[1]);
      expect(
        fields.filter((name) => /url|host|endpoint|base/i.test(name)),
        f.name,
      ).toEqual([]);
    }
  });

  test("public functions take ids of organizations, docks and users only: no project or resource id reaches the API", async () => {
    const byFunction = Object.fromEntries(
      (await publicFunctions()).map((f) => [f.name, [...new Set(idTables(f.args))].sort()]),
    );
    expect(byFunction).toEqual({
      "docks/actions:createDock": ["organizations"],
      "docks/actions:rotateDockKey": ["docks"],
      "docks/actions:setDockSpacesKey": ["docks"],
      "docks/mutations:deleteDock": ["docks"],
      "docks/mutations:removeDockSpacesKey": ["docks"],
      "docks/mutations:renameDock": ["docks"],
      "docks/mutations:syncDock": ["docks"],
      "docks/mutations:setDockSyncInterval": ["docks"],
      "docks/queries:getDock": ["docks"],
      "docks/queries:listAuditLogs": ["organizations"],
      "docks/queries:listDocks": ["organizations"],
      "organizations:addMemberByEmail": ["organizations"],
      "organizations:createOrganization": [],
      "organizations:leaveOrganization": ["organizations"],
      "organizations:listMembers": ["organizations"],
      "organizations:listMine": [],
      "organizations:removeMember": ["organizations", "users"],
      "organizations:setMemberRole": ["organizations", "users"],
      "resources/queries:listBlockVolumes": ["organizations"],
      "resources/queries:listBuckets": ["organizations"],
      "resources/queries:listServers": ["organizations"],
      "resources/queries:paginateBlockVolumes": ["docks", "organizations"],
      "resources/queries:paginateBuckets": ["docks", "organizations"],
      "resources/queries:paginateServers": ["docks", "organizations"],
      "resources/search:searchBlockVolumes": ["docks", "organizations"],
      "resources/search:searchBuckets": ["docks", "organizations"],
      "resources/summary:getStorageSummary": ["docks", "organizations"],
      "users:me": [],
      "users:storeUser": [],
    });
  });
});

// ---------------------------------------------------------------------------
// 2. ID confusion: ids from another org

const DOCK_FUNCTIONS = [
  {
    fn: "syncDock",
    call: (c: Client, _w: World, dockId: Id<"docks">) => c.mutation(api.docks.mutations.syncDock, { dockId }),
  },
  {
    fn: "renameDock",
    call: (c: Client, _w: World, dockId: Id<"docks">) =>
      c.mutation(api.docks.mutations.renameDock, { dockId, name: "Hijacked" }),
  },
  {
    fn: "setDockSyncInterval",
    call: (c: Client, _w: World, dockId: Id<"docks">) =>
      c.mutation(api.docks.mutations.setDockSyncInterval, { dockId, syncIntervalMs: 5 * 60_000 }),
  },
  {
    fn: "deleteDock",
    call: (c: Client, _w: World, dockId: Id<"docks">) => c.mutation(api.docks.mutations.deleteDock, { dockId }),
  },
  {
    fn: "rotateDockKey",
    call: (c: Client, w: World, dockId: Id<"docks">) =>
      c.action(api.docks.actions.rotateDockKey, { dockId, apiKey: w.token }),
  },
  {
    fn: "setDockSpacesKey",
    call: (c: Client, _w: World, dockId: Id<"docks">) =>
      c.action(api.docks.actions.setDockSpacesKey, {
        dockId,
        accessKeyId: emulator.accounts.digitalocean.spacesKey!.accessKeyId,
        secretAccessKey: emulator.accounts.digitalocean.spacesKey!.secretAccessKey,
      }),
  },
  {
    fn: "removeDockSpacesKey",
    call: (c: Client, _w: World, dockId: Id<"docks">) => c.mutation(api.docks.mutations.removeDockSpacesKey, { dockId }),
  },
];

async function goneDockId(w: World): Promise<Id<"docks">> {
  const id = await seedDock(w.t, w.otherOrgId, "vultr", w.token, { name: "Gone" });
  await w.t.run((ctx) => ctx.db.delete("docks", id));
  return id;
}

describe("ID confusion: getDock", () => {
  test("answers null, the same for another org's live dock, a dock being removed and a deleted one", async () => {
    const w = await world();
    const gone = await goneDockId(w);
    expect(await w.callers.owner.query(api.docks.queries.getDock, { dockId: w.otherDockId })).toBeNull();
    expect(await w.callers.owner.query(api.docks.queries.getDock, { dockId: gone })).toBeNull();
    await w.t.run((ctx) => ctx.db.patch("docks", w.dockId, { deletingAt: 1 }));
    expect(await w.callers.owner.query(api.docks.queries.getDock, { dockId: w.dockId })).toBeNull();
    expect(await outcome(w.callers.anonymous.query(api.docks.queries.getDock, { dockId: gone }))).toEqual({
      code: "UNAUTHENTICATED",
    });
  });
});

async function goneOrgId(w: World): Promise<Id<"organizations">> {
  return await w.t.run(async (ctx) => {
    const id = await ctx.db.insert("organizations", { name: "Gone" });
    await ctx.db.delete("organizations", id);
    return id;
  });
}

/** Calls and checks the outcome, and that the call wrote nothing anywhere. */
async function expectNoWrite(w: World, call: () => Promise<unknown>, expected: Outcome) {
  const before = await dump(w.t);
  expect(await outcome(call())).toEqual(expected);
  await settle(w.t);
  expect(await dump(w.t)).toEqual(before);
}

describe.each(DOCK_FUNCTIONS.map((f) => [f.fn, f] as const))("ID confusion: %s with a dockId", (_fn, { call }) => {
  test("of another org's live dock: NOT_FOUND for the target org's owner, nothing written", async () => {
    const w = await world();
    await expectNoWrite(w, () => call(w.callers.owner, w, w.otherDockId), { code: "NOT_FOUND" });
  });

  test("of a deleted dock: NOT_FOUND, nothing written", async () => {
    const w = await world();
    const gone = await goneDockId(w);
    await expectNoWrite(w, () => call(w.callers.owner, w, gone), { code: "NOT_FOUND" });
  });

  test("of another org's dock that is being deleted: NOT_FOUND, nothing written", async () => {
    const w = await world();
    await w.t.run((ctx) => ctx.db.patch("docks", w.otherDockId, { deletingAt: 1 }));
    await expectNoWrite(w, () => call(w.callers.owner, w, w.otherDockId), { code: "NOT_FOUND" });
  });

  test("a stranger cannot tell a live dock id from a gone one, with or without identity", async () => {
    const w = await world();
    const gone = await goneDockId(w);
    await expectNoWrite(w, () => call(w.callers.outsider, w, w.dockId), { code: "NOT_FOUND" });
    await expectNoWrite(w, () => call(w.callers.outsider, w, gone), { code: "NOT_FOUND" });
    // Identity is checked before the dock is looked up.
    await expectNoWrite(w, () => call(w.callers.anonymous, w, w.dockId), { code: "UNAUTHENTICATED" });
    await expectNoWrite(w, () => call(w.callers.anonymous, w, gone), { code: "UNAUTHENTICATED" });
  });
});

const ORG_FUNCTIONS: {
  fn: string;
  call: (c: Client, w: World, orgId: Id<"organizations">) => Promise<unknown>;
  denied: Outcome;
}[] = [
  {
    fn: "createDock",
    call: (c, w, orgId) =>
      c.action(api.docks.actions.createDock, { orgId, name: "Planted", provider: "vultr", apiKey: w.token }),
    denied: { code: "FORBIDDEN" },
  },
  {
    fn: "setMemberRole",
    call: (c, w, orgId) =>
      c.mutation(api.organizations.setMemberRole, { orgId, userId: w.userIds.owner!, role: "owner" }),
    denied: { code: "FORBIDDEN" },
  },
  {
    fn: "removeMember",
    call: (c, w, orgId) => c.mutation(api.organizations.removeMember, { orgId, userId: w.otherOwnerId }),
    denied: { code: "FORBIDDEN" },
  },
  {
    fn: "leaveOrganization",
    call: (c, _w, orgId) => c.mutation(api.organizations.leaveOrganization, { orgId }),
    denied: { code: "FORBIDDEN" },
  },
  {
    fn: "addMemberByEmail",
    call: (c, w, orgId) =>
      c.mutation(api.organizations.addMemberByEmail, { orgId, email: w.candidateEmail, role: "owner" }),
    denied: { code: "FORBIDDEN" },
  },
  {
    fn: "listMembers",
    call: (c, _w, orgId) => c.query(api.organizations.listMembers, { orgId }),
    denied: { ok: [] },
  },
  { fn: "listDocks", call: (c, _w, orgId) => c.query(api.docks.queries.listDocks, { orgId }), denied: { ok: [] } },
  {
    fn: "listAuditLogs",
    call: (c, _w, orgId) => c.query(api.docks.queries.listAuditLogs, { orgId, paginationOpts: PAGE }),
    denied: { ok: EMPTY_PAGE },
  },
  {
    fn: "listServers",
    call: (c, _w, orgId) => c.query(api.resources.queries.listServers, { orgId }),
    denied: { ok: [] },
  },
  {
    fn: "listBlockVolumes",
    call: (c, _w, orgId) => c.query(api.resources.queries.listBlockVolumes, { orgId }),
    denied: { ok: [] },
  },
  {
    fn: "listBuckets",
    call: (c, _w, orgId) => c.query(api.resources.queries.listBuckets, { orgId }),
    denied: { ok: [] },
  },
  {
    fn: "paginateServers",
    call: (c, _w, orgId) => c.query(api.resources.queries.paginateServers, { orgId, paginationOpts: PAGE }),
    denied: { ok: EMPTY_PAGE },
  },
  {
    fn: "paginateBlockVolumes",
    call: (c, _w, orgId) => c.query(api.resources.queries.paginateBlockVolumes, { orgId, paginationOpts: PAGE }),
    denied: { ok: EMPTY_PAGE },
  },
  {
    fn: "paginateBuckets",
    call: (c, _w, orgId) => c.query(api.resources.queries.paginateBuckets, { orgId, paginationOpts: PAGE }),
    denied: { ok: EMPTY_PAGE },
  },
  {
    fn: "searchBlockVolumes",
    call: (c, _w, orgId) => c.query(api.resources.search.searchBlockVolumes, { text: "vol", orgId }),
    denied: { ok: NO_MATCHES },
  },
  {
    fn: "searchBuckets",
    call: (c, _w, orgId) => c.query(api.resources.search.searchBuckets, { text: "bucket", orgId }),
    denied: { ok: NO_MATCHES },
  },
  {
    fn: "getStorageSummary",
    call: (c, _w, orgId) => c.query(api.resources.summary.getStorageSummary, { orgId }),
    denied: { ok: EMPTY_SUMMARY },
  },
];

const PAGINATE = [
  { fn: "paginateServers", ref: api.resources.queries.paginateServers, field: "server" as const },
  { fn: "paginateBlockVolumes", ref: api.resources.queries.paginateBlockVolumes, field: "volume" as const },
  { fn: "paginateBuckets", ref: api.resources.queries.paginateBuckets, field: "bucket" as const },
];

describe.each(PAGINATE.map((f) => [f.fn, f] as const))(
  "ID confusion: %s with a dockId filter",
  (_fn, { ref, field }) => {
    test("another org's dockId under the caller's own orgId: an empty page, never the other org's rows", async () => {
      const w = await world();
      for (const caller of ["viewer", "owner"] as const) {
        const answer = await w.callers[caller].query(ref, {
          orgId: w.orgId,
          dockId: w.otherDockId,
          paginationOpts: PAGE,
        });
        expect(answer).toEqual(EMPTY_PAGE);
      }
      // The outsider, reading their own dock through the target org's id, gets nothing either.
      expect(
        await w.callers.outsider.query(ref, { orgId: w.orgId, dockId: w.otherDockId, paginationOpts: PAGE }),
      ).toEqual(EMPTY_PAGE);
    });

    test("the caller's own dock with a provider it is not on: an empty page; with its provider: its rows", async () => {
      const w = await world();
      const viewer = w.callers.viewer;
      expect(
        await viewer.query(ref, { orgId: w.orgId, dockId: w.dockId, provider: "linode", paginationOpts: PAGE }),
      ).toEqual(EMPTY_PAGE);
      const own = await viewer.query(ref, {
        orgId: w.orgId,
        dockId: w.dockId,
        provider: "vultr",
        paginationOpts: PAGE,
      });
      expect(own.page.map((r) => r._id)).toEqual([w.rows[field]]);
      const byProvider = await viewer.query(ref, { orgId: w.orgId, provider: "vultr", paginationOpts: PAGE });
      expect(byProvider.page.map((r) => r._id)).toEqual([w.rows[field]]);
    });
  },
);

function describeOutcome(o: Outcome): string {
  if ("code" in o) return o.code;
  if ("ok" in o)
    return Array.isArray(o.ok)
      ? "[]"
      : o.ok === NO_MATCHES
        ? "no matches"
        : o.ok === EMPTY_SUMMARY
          ? "the empty summary"
          : "an empty page";
  return JSON.stringify(o);
}

describe.each(ORG_FUNCTIONS.map((f) => [f.fn, f] as const))(
  "ID confusion: %s with an orgId",
  (_fn, { call, denied }) => {
    test(`of another org: ${describeOutcome(denied)} for the target org's owner, nothing written`, async () => {
      const w = await world();
      await expectNoWrite(w, () => call(w.callers.owner, w, w.otherOrgId), denied);
    });

    test(`of a deleted org: ${describeOutcome(denied)}, nothing written`, async () => {
      const w = await world();
      const gone = await goneOrgId(w);
      await expectNoWrite(w, () => call(w.callers.owner, w, gone), denied);
    });
  },
);

describe("ID confusion: users and rows", () => {
  test("users are global: an admin may add another org's owner by id, which gives the admin nothing in that org", async () => {
    const w = await world();
    await w.callers.admin.mutation(api.organizations.setMemberRole, {
      orgId: w.orgId,
      userId: w.otherOwnerId,
      role: "viewer",
    });
    expect(await roleOf(w, w.orgId, w.otherOwnerId)).toBe("viewer");
    await expectNoWrite(w, () => w.callers.admin.mutation(api.docks.mutations.syncDock, { dockId: w.otherDockId }), {
      code: "NOT_FOUND",
    });
    expect(await w.callers.admin.query(api.resources.queries.listBlockVolumes, { orgId: w.otherOrgId })).toEqual([]);
  });

  test("a user added to an org without being asked can leave it, and then sees only their own org again", async () => {
    const w = await world();
    await w.callers.admin.mutation(api.organizations.setMemberRole, {
      orgId: w.orgId,
      userId: w.otherOwnerId,
      role: "viewer",
    });
    const outsider = w.callers.outsider;
    expect((await outsider.query(api.docks.queries.listDocks, {})).map((d) => d._id).sort()).toEqual(
      [w.dockId, w.otherDockId].sort(),
    );
    await outsider.mutation(api.organizations.leaveOrganization, { orgId: w.orgId });
    expect(await roleOf(w, w.orgId, w.otherOwnerId)).toBeNull();
    expect((await outsider.query(api.docks.queries.listDocks, {})).map((d) => d._id)).toEqual([w.otherDockId]);
  });

  test("a member of two orgs sees each org only through its own membership and role", async () => {
    const w = await world();
    const both = await seedMember(w.t, w.orgId, "admin");
    await w.t.run((ctx) => ctx.db.insert("memberships", { orgId: w.otherOrgId, userId: both.userId, role: "viewer" }));
    const volumes = await both.as.query(api.resources.queries.listBlockVolumes, {});
    expect(volumes.map((v) => v._id).sort()).toEqual([w.rows.volume, w.otherRows.volume].sort());
    // Admin in one org is not admin in the other.
    expect(await both.as.query(api.docks.queries.listAuditLogs, { orgId: w.otherOrgId, paginationOpts: PAGE })).toEqual(
      EMPTY_PAGE,
    );
    await expectNoWrite(
      w,
      () => both.as.mutation(api.docks.mutations.renameDock, { dockId: w.otherDockId, name: "x" }),
      {
        code: "FORBIDDEN",
      },
    );
  });
});

// ---------------------------------------------------------------------------
// 3. Bad arguments

const MB = "x".repeat(1 << 20);
type BadCase = { label: string; call: (c: Client, w: World) => Promise<unknown>; expected: Outcome };

const BAD_ARGUMENTS: BadCase[] = [
  // Wrong types and ids of the wrong table: rejected by the args validator.
  {
    label: "renameDock with a blockVolumes id as dockId",
    call: (c, w) =>
      c.mutation(api.docks.mutations.renameDock, { dockId: w.rows.volume as unknown as Id<"docks">, name: "x" }),
    expected: { validator: true },
  },
  {
    label: "syncDock with an organizations id as dockId",
    call: (c, w) => c.mutation(api.docks.mutations.syncDock, { dockId: w.orgId as unknown as Id<"docks"> }),
    expected: { validator: true },
  },
  {
    label: "deleteDock with a string that is no id",
    call: (c) => c.mutation(api.docks.mutations.deleteDock, { dockId: "not-an-id" as Id<"docks"> }),
    expected: { validator: true },
  },
  {
    label: "rotateDockKey with a users id as dockId",
    call: (c, w) =>
      c.action(api.docks.actions.rotateDockKey, { dockId: w.userIds.owner as unknown as Id<"docks">, apiKey: w.token }),
    expected: { validator: true },
  },
  {
    label: "createDock with a docks id as orgId",
    call: (c, w) =>
      c.action(api.docks.actions.createDock, {
        orgId: w.dockId as unknown as Id<"organizations">,
        name: "x",
        provider: "vultr",
        apiKey: w.token,
      }),
    expected: { validator: true },
  },
  {
    label: "createDock with an unknown provider",
    call: (c, w) =>
      c.action(api.docks.actions.createDock, {
        orgId: w.orgId,
        name: "x",
        provider: "aws" as Provider,
        apiKey: w.token,
      }),
    expected: { validator: true },
  },
  {
    label: "createDock with a provider in the wrong case",
    call: (c, w) =>
      c.action(api.docks.actions.createDock, {
        orgId: w.orgId,
        name: "x",
        provider: "Vultr" as Provider,
        apiKey: w.token,
      }),
    expected: { validator: true },
  },
  {
    label: "createDock with a numeric apiKey",
    call: (c, w) =>
      c.action(api.docks.actions.createDock, {
        orgId: w.orgId,
        name: "x",
        provider: "vultr",
        apiKey: 42 as unknown as string,
      }),
    expected: { validator: true },
  },
  {
    label: "createDock with an extra field",
    call: (c, w) =>
      c.action(api.docks.actions.createDock, {
        orgId: w.orgId,
        name: "x",
        provider: "vultr",
        apiKey: w.token,
        encryptedApiKey: new ArrayBuffer(8),
      } as unknown as { orgId: Id<"organizations">; name: string; provider: Provider; apiKey: string }),
    expected: { validator: true },
  },
  {
    label: "setMemberRole with the ids swapped (users id as orgId)",
    call: (c, w) =>
      c.mutation(api.organizations.setMemberRole, {
        orgId: w.candidateId as unknown as Id<"organizations">,
        userId: w.orgId as unknown as Id<"users">,
        role: "member",
      }),
    expected: { validator: true },
  },
  {
    label: "removeMember with the ids swapped (users id as orgId)",
    call: (c, w) =>
      c.mutation(api.organizations.removeMember, {
        orgId: w.removableId as unknown as Id<"organizations">,
        userId: w.orgId as unknown as Id<"users">,
      }),
    expected: { validator: true },
  },
  {
    label: "leaveOrganization with a docks id as orgId",
    call: (c, w) =>
      c.mutation(api.organizations.leaveOrganization, { orgId: w.dockId as unknown as Id<"organizations"> }),
    expected: { validator: true },
  },
  {
    label: "setMemberRole with an unknown role",
    call: (c, w) =>
      c.mutation(api.organizations.setMemberRole, { orgId: w.orgId, userId: w.candidateId, role: "superuser" as Role }),
    expected: { validator: true },
  },
  {
    label: "createOrganization with a numeric name",
    call: (c) => c.mutation(api.organizations.createOrganization, { name: 7 as unknown as string }),
    expected: { validator: true },
  },
  {
    label: "storeUser with an argument",
    call: (c) =>
      c.mutation(api.users.storeUser, { tokenIdentifier: "someone-else" } as unknown as Record<string, never>),
    expected: { validator: true },
  },
  {
    label: "listDocks with a docks id as orgId",
    call: (c, w) => c.query(api.docks.queries.listDocks, { orgId: w.dockId as unknown as Id<"organizations"> }),
    expected: { validator: true },
  },
  {
    label: "listAuditLogs with a buckets id as orgId",
    call: (c, w) =>
      c.query(api.docks.queries.listAuditLogs, {
        orgId: w.rows.bucket as unknown as Id<"organizations">,
        paginationOpts: PAGE,
      }),
    expected: { validator: true },
  },
  {
    label: "listAuditLogs with a string page size",
    call: (c, w) =>
      c.query(api.docks.queries.listAuditLogs, {
        orgId: w.orgId,
        paginationOpts: { numItems: "10" as unknown as number, cursor: null },
      }),
    expected: { validator: true },
  },
  {
    label: "paginateBlockVolumes with a blockVolumes id as dockId",
    call: (c, w) =>
      c.query(api.resources.queries.paginateBlockVolumes, {
        orgId: w.orgId,
        dockId: w.rows.volume as unknown as Id<"docks">,
        paginationOpts: PAGE,
      }),
    expected: { validator: true },
  },
  {
    label: "paginateServers with an unknown provider filter",
    call: (c, w) =>
      c.query(api.resources.queries.paginateServers, {
        orgId: w.orgId,
        provider: "aws" as Provider,
        paginationOpts: PAGE,
      }),
    expected: { validator: true },
  },
  {
    label: "paginateBuckets without orgId",
    call: (c) =>
      c.query(api.resources.queries.paginateBuckets, { paginationOpts: PAGE } as unknown as {
        orgId: Id<"organizations">;
        paginationOpts: typeof PAGE;
      }),
    expected: { validator: true },
  },
  {
    label: "paginateBlockVolumes with a region and a dock (a combination no index serves)",
    call: (c, w) =>
      c.query(api.resources.queries.paginateBlockVolumes, {
        orgId: w.orgId,
        dockId: w.dockId,
        region: "ewr",
        sort: "size",
        paginationOpts: PAGE,
      }),
    expected: { code: "FILTER_NOT_SUPPORTED" },
  },
  {
    label: "searchBuckets with a text past 100 characters",
    call: (c, w) => c.query(api.resources.search.searchBuckets, { orgId: w.orgId, text: "b".repeat(101) }),
    expected: { code: "INVALID_ARGUMENT" },
  },
  {
    label: "searchBlockVolumes with a blockVolumes id as dockId",
    call: (c, w) =>
      c.query(api.resources.search.searchBlockVolumes, { text: "vol", dockId: w.rows.volume as unknown as Id<"docks"> }),
    expected: { validator: true },
  },
  {
    label: "listServers with a number as orgId",
    call: (c) => c.query(api.resources.queries.listServers, { orgId: 42 as unknown as Id<"organizations"> }),
    expected: { validator: true },
  },
  {
    label: "setDockSyncInterval with the old intervalMinutes argument",
    call: (c, w) =>
      c.mutation(api.docks.mutations.setDockSyncInterval, { dockId: w.dockId, intervalMinutes: 60 } as unknown as {
        dockId: Id<"docks">;
        syncIntervalMs: number;
      }),
    expected: { validator: true },
  },
  {
    label: "setDockSyncInterval with a string syncIntervalMs",
    call: (c, w) =>
      c.mutation(api.docks.mutations.setDockSyncInterval, { dockId: w.dockId, syncIntervalMs: "3600000" as unknown as number }),
    expected: { validator: true },
  },
  // The interval: a whole number of ms from 5 minutes to a day, INVALID_ARGUMENT.
  ...[
    ["60 (minutes, the old unit)", 60],
    ["one ms under 5 minutes", 5 * 60_000 - 1],
    ["one ms over a day", 24 * 60 * 60_000 + 1],
    ["a fraction of a ms", 30 * 60_000 + 0.5],
    ["Infinity", Number.POSITIVE_INFINITY],
  ].map(
    ([what, syncIntervalMs]): BadCase => ({
      label: `setDockSyncInterval with ${what}`,
      call: (c, w) => c.mutation(api.docks.mutations.setDockSyncInterval, { dockId: w.dockId, syncIntervalMs: syncIntervalMs as number }),
      expected: { code: "INVALID_ARGUMENT" },
    }),
  ),
  // Names and keys: checked by the function, INVALID_ARGUMENT.
  {
    label: "createOrganization with an empty name",
    call: (c) => c.mutation(api.organizations.createOrganization, { name: "" }),
    expected: { code: "INVALID_ARGUMENT" },
  },
  {
    label: "createOrganization with a blank name",
    call: (c) => c.mutation(api.organizations.createOrganization, { name: " \t\n " }),
    expected: { code: "INVALID_ARGUMENT" },
  },
  {
    label: "createOrganization with a 101-character name",
    call: (c) => c.mutation(api.organizations.createOrganization, { name: "o".repeat(101) }),
    expected: { code: "INVALID_ARGUMENT" },
  },
  {
    label: "createOrganization with a 1 MB name",
    call: (c) => c.mutation(api.organizations.createOrganization, { name: MB }),
    expected: { code: "INVALID_ARGUMENT" },
  },
  {
    label: "createDock with an empty name",
    call: (c, w) =>
      c.action(api.docks.actions.createDock, { orgId: w.orgId, name: "", provider: "vultr", apiKey: w.token }),
    expected: { code: "INVALID_ARGUMENT" },
  },
  {
    label: "createDock with a 101-character name",
    call: (c, w) =>
      c.action(api.docks.actions.createDock, {
        orgId: w.orgId,
        name: "d".repeat(101),
        provider: "vultr",
        apiKey: w.token,
      }),
    expected: { code: "INVALID_ARGUMENT" },
  },
  {
    label: "createDock with a 1 MB name",
    call: (c, w) =>
      c.action(api.docks.actions.createDock, { orgId: w.orgId, name: MB, provider: "vultr", apiKey: w.token }),
    expected: { code: "INVALID_ARGUMENT" },
  },
  {
    label: "createDock with an empty apiKey",
    call: (c, w) =>
      c.action(api.docks.actions.createDock, { orgId: w.orgId, name: "x", provider: "vultr", apiKey: "" }),
    expected: { code: "INVALID_ARGUMENT" },
  },
  {
    label: "createDock with a blank apiKey",
    call: (c, w) =>
      c.action(api.docks.actions.createDock, { orgId: w.orgId, name: "x", provider: "vultr", apiKey: "   " }),
    expected: { code: "INVALID_ARGUMENT" },
  },
  {
    label: "createDock with a 1-character apiKey",
    call: (c, w) =>
      c.action(api.docks.actions.createDock, { orgId: w.orgId, name: "x", provider: "vultr", apiKey: "k" }),
    expected: { code: "INVALID_ARGUMENT" },
  },
  {
    label: "createDock with a 31-character apiKey (the first 31 of a real one)",
    call: (c, w) =>
      c.action(api.docks.actions.createDock, {
        orgId: w.orgId,
        name: "x",
        provider: "vultr",
        apiKey: w.token.slice(0, 31),
      }),
    expected: { code: "INVALID_ARGUMENT" },
  },
  {
    label: "createDock with a 1001-character apiKey",
    call: (c, w) =>
      c.action(api.docks.actions.createDock, {
        orgId: w.orgId,
        name: "x",
        provider: "vultr",
        apiKey: "k".repeat(1001),
      }),
    expected: { code: "INVALID_ARGUMENT" },
  },
  {
    label: "createDock with a 1 MB apiKey",
    call: (c, w) =>
      c.action(api.docks.actions.createDock, { orgId: w.orgId, name: "x", provider: "vultr", apiKey: MB }),
    expected: { code: "INVALID_ARGUMENT" },
  },
  {
    label: "renameDock with an empty name",
    call: (c, w) => c.mutation(api.docks.mutations.renameDock, { dockId: w.dockId, name: "" }),
    expected: { code: "INVALID_ARGUMENT" },
  },
  {
    label: "renameDock with a 101-character name",
    call: (c, w) => c.mutation(api.docks.mutations.renameDock, { dockId: w.dockId, name: "r".repeat(101) }),
    expected: { code: "INVALID_ARGUMENT" },
  },
  {
    label: "renameDock with a 1 MB name",
    call: (c, w) => c.mutation(api.docks.mutations.renameDock, { dockId: w.dockId, name: MB }),
    expected: { code: "INVALID_ARGUMENT" },
  },
  {
    label: "rotateDockKey with an empty apiKey",
    call: (c, w) => c.action(api.docks.actions.rotateDockKey, { dockId: w.dockId, apiKey: "" }),
    expected: { code: "INVALID_ARGUMENT" },
  },
  {
    label: "rotateDockKey with a 1-character apiKey",
    call: (c, w) => c.action(api.docks.actions.rotateDockKey, { dockId: w.dockId, apiKey: "k" }),
    expected: { code: "INVALID_ARGUMENT" },
  },
  {
    label: "rotateDockKey with a 31-character apiKey",
    call: (c, w) => c.action(api.docks.actions.rotateDockKey, { dockId: w.dockId, apiKey: "k".repeat(31) }),
    expected: { code: "INVALID_ARGUMENT" },
  },
  {
    label: "rotateDockKey with a 1 MB apiKey",
    call: (c, w) => c.action(api.docks.actions.rotateDockKey, { dockId: w.dockId, apiKey: MB }),
    expected: { code: "INVALID_ARGUMENT" },
  },
];

describe("bad arguments", () => {
  test.each(BAD_ARGUMENTS.map((c) => [c.label, c] as const))(
    "%s: rejected, nothing written, no provider call",
    async (_label, { call, expected }) => {
      const w = await world();
      await expectNoWrite(w, () => call(w.callers.owner, w), expected);
      // A rejected key is never sent to the provider.
      expect(emulator.countRequests()).toBe(0);
    },
  );

  test("a 100-character name is the longest accepted; names are stored trimmed", async () => {
    const w = await world();
    const name = "n".repeat(100);
    const orgId = await w.callers.owner.mutation(api.organizations.createOrganization, { name: `  ${name}  ` });
    expect((await w.t.run((ctx) => ctx.db.get("organizations", orgId)))?.name).toBe(name);
  });

  test("a key shorter than 32 characters is refused with a message that says so and does not echo it; 32 reach the provider", async () => {
    const w = await world();
    const short = canary().slice(0, 31);
    const lines = captureConsole();
    let data: { code?: string; message?: string } = {};
    await w.callers.owner
      .action(api.docks.actions.createDock, { orgId: w.orgId, name: "x", provider: "vultr", apiKey: short })
      .catch((e: unknown) => {
        data = (e as { data?: typeof data }).data ?? {};
      });
    expect(data.code).toBe("INVALID_ARGUMENT");
    expect(data.message).toMatch(/too short/);
    expect(data.message).toContain("32");
    expect(leaked(JSON.stringify(data), [short])).toEqual([]);
    expect(leaked(lines.join("\n"), [short])).toEqual([]);
    expect(emulator.countRequests()).toBe(0);

    // 32 characters pass the check and are put to the provider, which refuses this one.
    expect(
      await outcome(
        w.callers.owner.action(api.docks.actions.createDock, {
          orgId: w.orgId,
          name: "x",
          provider: "vultr",
          apiKey: canary().slice(0, 32),
        }),
      ),
    ).toEqual({ code: "INVALID_CREDENTIALS" });
    expect(emulator.countRequests({ provider: "vultr", path: "/v2/account" })).toBe(1);
  });

  test("an apiKey with a line break (header injection) is refused before any request is sent, and not echoed", async () => {
    const w = await world();
    const key = `${w.token}\r\nX-Injected: 1`;
    const before = await dump(w.t);
    const lines = captureConsole();
    let message = "";
    const result = await outcome(
      w.callers.owner
        .action(api.docks.actions.createDock, { orgId: w.orgId, name: "x", provider: "vultr", apiKey: key })
        .catch((e: unknown) => {
          message = JSON.stringify((e as { data?: unknown }).data ?? String(e));
          throw e;
        }),
    );
    expect(result).toEqual({ code: "INVALID_ARGUMENT" });
    expect(message).not.toContain(key);
    expect(message).not.toContain("X-Injected");
    expect(emulator.countRequests()).toBe(0);
    expect(await dump(w.t)).toEqual(before);
    expect(leaked(lines.join("\n"), [key])).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// 4. Secrets: API keys and provider secrets

const LIST_PATHS: Record<Provider, string[]> = {
  vultr: ["/v2/instances", "/v2/blocks", "/v2/object-storage"],
  digitalocean: ["/v2/droplets", "/v2/volumes"],
  linode: ["/v4/linode/instances", "/v4/volumes", "/v4/object-storage/buckets"],
};

/** Every public query's answer for `as`, as one string. */
async function everyQueryAnswer(as: Client, orgId: Id<"organizations">): Promise<string> {
  const answers = [
    await as.query(api.docks.queries.listDocks, {}),
    await as.query(api.docks.queries.listDocks, { orgId }),
    await as.query(api.docks.queries.listAuditLogs, { orgId, paginationOpts: PAGE }),
    await as.query(api.resources.queries.listServers, {}),
    await as.query(api.resources.queries.listBlockVolumes, {}),
    await as.query(api.resources.queries.listBuckets, {}),
    await as.query(api.resources.search.searchBlockVolumes, { text: "a" }),
    await as.query(api.resources.search.searchBuckets, { text: "a" }),
  ];
  return JSON.stringify(plain(answers));
}

/** A random 64-hex-digit secret: no piece of it occurs anywhere by chance. */
function canary() {
  return `${crypto.randomUUID()}${crypto.randomUUID()}`.replaceAll("-", "");
}

describe.each(PROVIDERS)("secrets with a %s dock", (provider) => {
  test("API keys (created, rotated, after good and failing syncs) appear in no query answer, stored row, scheduled job, audit entry, sync error or console line", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "owner");
    const firstKey = canary();
    const secondKey = canary();
    const password = canary();
    const kvmToken = canary();
    const kvm = `https://my.vultr.com/subs/vps/novnc/api.php?data=${kvmToken}`;
    // Vultr Object Storage keys: the sync signs S3 ListBuckets with them (the
    // bucket endpoint is missing here), so they are used, not only listed.
    const s3AccessKey = canary();
    const s3SecretKey = canary();
    // A DigitalOcean dock's Spaces key pair: stored, decrypted and signed with.
    const spacesAccessKeyId = canary();
    const spacesSecret = canary();
    const account = emulator.accounts[provider];
    emulator.setAccount(provider, {
      ...account,
      token: firstKey,
      servers:
        provider === "vultr"
          ? account.servers.map((s) => ({ ...s, default_password: password, kvm }))
          : account.servers,
      objectStorages: account.objectStorages?.map((s) => ({ ...s, s3_access_key: s3AccessKey, s3_secret_key: s3SecretKey })),
      spacesKey: provider === "digitalocean" ? { accessKeyId: spacesAccessKeyId, secretAccessKey: spacesSecret } : undefined,
    });
    emulator.vultrBucketEndpoint = "missing";
    const secrets = [firstKey, secondKey, password, kvmToken, s3AccessKey, s3SecretKey, spacesAccessKeyId, spacesSecret];
    const lines = captureConsole();
    // The spy sees what function code writes to the console.
    await t.run(async () => console.warn("security-probe"));
    expect(lines).toContain("security-probe");

    const dockId = await as.action(api.docks.actions.createDock, {
      orgId,
      name: "Main",
      provider,
      apiKey: ` ${firstKey} `,
      ...(provider === "digitalocean" ? { spacesAccessKeyId: spacesAccessKeyId, spacesSecretAccessKey: ` ${spacesSecret}` } : {}),
    });
    await settle(t);
    const afterCreate = await t.run((ctx) => ctx.db.get("docks", dockId));
    expect(afterCreate?.lastSyncStatus).toBe("success");

    emulator.setAccount(provider, { ...emulator.accounts[provider], token: secondKey });
    await as.action(api.docks.actions.rotateDockKey, { dockId, apiKey: secondKey });
    expect((await syncNow(t, as, dockId)).lastSyncStatus).toBe("success");

    const errors: string[] = [];
    if (provider === "vultr") {
      expect(emulator.countRequests({ provider, status: 200 }) > 0).toBe(true);
      expect(emulator.requests.some((r) => r.path.startsWith("/s3/") && r.status === 200)).toBe(true);
      // S3 refuses the signature: its error XML names the access key id.
      emulator.vultrS3SecretOverrides[s3AccessKey] = canary();
      const refused = await syncNow(t, as, dockId);
      expect(refused.lastSyncStatus).toBe("partial");
      expect(refused.lastSyncStats?.buckets?.error).toContain("SignatureDoesNotMatch");
      errors.push(refused.lastSyncError ?? "", refused.lastSyncStats?.buckets?.error ?? "");
      emulator.vultrS3SecretOverrides = {};
    }
    if (provider === "digitalocean") {
      expect(emulator.requests.some((r) => r.path.startsWith("/s3/") && r.status === 200)).toBe(true);
      // Spaces refuses the signature (the secret was regenerated): its error XML names the access key id.
      emulator.setAccount(provider, { ...emulator.accounts[provider], spacesKey: { accessKeyId: spacesAccessKeyId, secretAccessKey: canary() } });
      const refused = await syncNow(t, as, dockId);
      expect(refused.lastSyncStatus).toBe("partial");
      expect(refused.lastSyncStats?.buckets?.error).toContain("SignatureDoesNotMatch");
      errors.push(refused.lastSyncError ?? "", refused.lastSyncStats?.buckets?.error ?? "");
    }
    for (const kind of ["401", "500"] as const) {
      for (const path of LIST_PATHS[provider]) emulator.addFault({ provider, path, kind, times: Infinity });
      const failed = await syncNow(t, as, dockId);
      emulator.clearFaults();
      expect(failed.lastSyncStatus).toBe("error");
      expect(failed.lastSyncError).toContain(`HTTP ${kind}`);
      errors.push(failed.lastSyncError ?? "");
    }
    await settle(t);

    const stored = await dump(t);
    expect(leaked(JSON.stringify(stored), secrets)).toEqual([]);
    expect(leaked(await everyQueryAnswer(as, orgId), secrets)).toEqual([]);
    expect(leaked(errors.join("\n"), secrets)).toEqual([]);
    expect(leaked(lines.join("\n"), secrets)).toEqual([]);

    // The key is stored, as AES-GCM ciphertext only: the bytes hold no form of it.
    const dock = await t.run((ctx) => ctx.db.get("docks", dockId));
    const bytes = new Uint8Array(dock!.encryptedApiKey);
    expect(bytes.length).toBeGreaterThan(secondKey.length);
    expect(leaked(hex(bytes), [firstKey, secondKey])).toEqual([]);
    const audit = await t.run((ctx) => ctx.db.query("auditLogs").collect());
    expect(audit.map((e) => e.action)).toEqual(
      expect.arrayContaining(["dock.created", "dock.keyRotated", "dock.syncRequested"]),
    );
  });

  test("the same key encrypted twice gives different ciphertexts (random IV)", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "admin");
    const token = emulator.accounts[provider].token;
    const a = await as.action(api.docks.actions.createDock, { orgId, name: "A", provider, apiKey: token });
    const b = await as.action(api.docks.actions.createDock, { orgId, name: "B", provider, apiKey: token });
    await settle(t);
    const bytesOf = async (id: Id<"docks">) =>
      hex(new Uint8Array((await t.run((ctx) => ctx.db.get("docks", id)))!.encryptedApiKey));
    expect(await bytesOf(a)).not.toEqual(await bytesOf(b));
  });
});

describe.each(PROVIDERS)("a %s dock's key rotated to another provider account", (provider) => {
  test("is refused with ACCOUNT_MISMATCH before anything is written; the refused key appears nowhere", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "owner");
    const dockId = await as.action(api.docks.actions.createDock, {
      orgId,
      name: "Main",
      provider,
      apiKey: emulator.accounts[provider].token,
    });
    await settle(t);
    expect((await t.run((ctx) => ctx.db.get("docks", dockId)))?.lastSyncStatus).toBe("success");

    // A key the provider accepts, for an account the dock was not connected to.
    const otherKey = canary();
    emulator.setAccount(provider, { ...generateAccount(provider, { seed: 90 }), token: otherKey });
    const lines = captureConsole();
    const before = await dump(t);
    let error = "";
    const result = await outcome(
      as.action(api.docks.actions.rotateDockKey, { dockId, apiKey: otherKey }).catch((e: unknown) => {
        error = JSON.stringify((e as { data?: unknown }).data ?? String(e));
        throw e;
      }),
    );
    expect(result).toEqual({ code: "ACCOUNT_MISMATCH" });
    await settle(t);
    expect(await dump(t)).toEqual(before);
    expect(leaked(error, [otherKey])).toEqual([]);
    expect(leaked(lines.join("\n"), [otherKey])).toEqual([]);
    expect(leaked(JSON.stringify(await dump(t)), [otherKey])).toEqual([]);
  });
});

describe("provider secrets in fullApiData", () => {
  test("a Vultr instance's default_password and kvm never reach a stored row or a query answer", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "viewer");
    const account = emulator.accounts.vultr;
    const password = canary();
    const kvmToken = canary();
    const kvm = `https://my.vultr.com/subs/vps/novnc/api.php?data=${kvmToken}`;
    emulator.setAccount("vultr", {
      ...account,
      servers: account.servers.map((s) => ({ ...s, default_password: password, kvm })),
    });
    const dockId = await seedDock(t, orgId, "vultr", account.token);
    const { as: member } = await seedMember(t, orgId, "member");
    expect((await syncNow(t, member, dockId)).lastSyncStatus).toBe("success");

    const servers = await as.query(api.resources.queries.listServers, { orgId });
    expect(servers.length).toBe(account.servers.length);
    for (const s of servers) {
      const instance = s.fullApiData.instance as Record<string, unknown>;
      expect(instance.main_ip).toBeDefined();
      expect(Object.keys(instance)).not.toContain("default_password");
      expect(Object.keys(instance)).not.toContain("kvm");
    }
    expect(leaked(JSON.stringify(await dump(t)), [password, kvmToken])).toEqual([]);
    expect(leaked(await everyQueryAnswer(as, orgId), [password, kvmToken])).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// A malicious or compromised provider

/** A one-route stand-in for a provider that answers every request with `answer`. */
async function hostileProvider(answer: (req: http.IncomingMessage) => { status: number; body: unknown }) {
  const server = http.createServer((req, res) => {
    const { status, body } = answer(req);
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "Content-Type": "application/json",
      "Content-Length": String(new TextEncoder().encode(text).length),
    });
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const URL_ENV: Record<Provider, string> = {
  vultr: "VULTR_API_URL",
  digitalocean: "DIGITALOCEAN_API_URL",
  linode: "LINODE_API_URL",
};

/** An error body in the provider's own envelope, so the provider's message is parsed out. */
function errorBody(provider: Provider, message: string): unknown {
  if (provider === "vultr") return { error: message, status: 401 };
  if (provider === "digitalocean") return { id: "unauthorized", message };
  return { errors: [{ reason: message }] };
}

describe.each(PROVIDERS)("a hostile %s API", (provider) => {
  test("an error answer that echoes the bearer token is redacted, in createDock's error and in lastSyncError", async () => {
    const hostile = await hostileProvider((req) => ({
      status: 401,
      body: errorBody(provider, `you sent ${req.headers.authorization ?? ""}`),
    }));
    try {
      process.env[URL_ENV[provider]] = hostile.url;
      const t = newTest();
      const orgId = await seedOrg(t);
      const { as } = await seedMember(t, orgId, "admin");
      const key = canary();
      const lines = captureConsole();
      let createError = "";
      await expect(
        as.action(api.docks.actions.createDock, { orgId, name: "x", provider, apiKey: key }).catch((e: unknown) => {
          createError = JSON.stringify((e as { data?: unknown }).data);
          throw e;
        }),
      ).rejects.toThrow(/INVALID_CREDENTIALS/);
      expect(createError).toContain("[redacted]");
      expect(createError).not.toContain(key);

      const dockId = await seedDock(t, orgId, provider, key);
      const dock = await syncNow(t, as, dockId);
      expect(dock.lastSyncStatus).toBe("error");
      expect(dock.lastSyncError).toContain("[redacted]");
      expect(leaked(JSON.stringify(await dump(t)), [key])).toEqual([]);
      expect(leaked(await everyQueryAnswer(as, orgId), [key])).toEqual([]);
      expect(leaked(lines.join("\n"), [key])).toEqual([]);
    } finally {
      await hostile.close();
    }
  });

  test("an account answer that names no account is PROVIDER_ERROR, and nothing is stored", async () => {
    const hostile = await hostileProvider(() => ({ status: 200, body: { account: {} } }));
    try {
      process.env[URL_ENV[provider]] = hostile.url;
      const t = newTest();
      const orgId = await seedOrg(t);
      const { as } = await seedMember(t, orgId, "admin");
      const before = await dump(t);
      expect(
        await outcome(as.action(api.docks.actions.createDock, { orgId, name: "x", provider, apiKey: canary() })),
      ).toEqual({ code: "PROVIDER_ERROR" });
      expect(await dump(t)).toEqual(before);
    } finally {
      await hostile.close();
    }
  });

  test("a huge error message cannot grow the dock past Convex's 1 MiB document limit", async () => {
    const huge = "E".repeat(1_100_000);
    const hostile = await hostileProvider(() => ({ status: 401, body: errorBody(provider, huge) }));
    try {
      process.env[URL_ENV[provider]] = hostile.url;
      const t = newTest();
      const orgId = await seedOrg(t);
      const { as } = await seedMember(t, orgId, "member");
      const dockId = await seedDock(t, orgId, provider, "k".repeat(40));
      const dock = await syncNow(t, as, dockId);
      expect(dock.lastSyncStatus).toBe("error");
      const size = JSON.stringify(plain(dock)).length;
      expect(size, "the dock document's size in bytes (Convex rejects documents over 1 MiB)").toBeLessThan(1 << 20);
    } finally {
      await hostile.close();
    }
  });
});

describe("a hostile provider's items", () => {
  test("items that name another org, dock or provisioning fields land in the dock's own org, as plain synced rows", async () => {
    const t = newTest();
    const orgA = await seedOrg(t, "A");
    const orgB = await seedOrg(t, "B");
    const { as } = await seedMember(t, orgA, "member");
    const dockA = await seedDock(t, orgA, "vultr", emulator.accounts.vultr.token);
    const dockB = await seedDock(t, orgB, "vultr", "b".repeat(40));
    const rowsB = await seedRows(t, orgB, dockB, "b");
    const account = emulator.accounts.vultr;
    const forged = {
      ...account.volumes[0],
      id: "forged-volume",
      orgId: orgB,
      dockId: dockB,
      _id: rowsB.volume,
      provisioningSource: "panel",
      provider: "digitalocean",
    };
    emulator.setAccount("vultr", { ...account, volumes: [...account.volumes, forged] });
    const before = await t.run(async (ctx) => ({
      volumes: await ctx.db
        .query("blockVolumes")
        .withIndex("by_orgId", (q) => q.eq("orgId", orgB))
        .collect(),
      servers: await ctx.db
        .query("servers")
        .withIndex("by_orgId", (q) => q.eq("orgId", orgB))
        .collect(),
    }));
    expect((await syncNow(t, as, dockA)).lastSyncStatus).toBe("success");
    const row = await t.run((ctx) =>
      ctx.db
        .query("blockVolumes")
        .withIndex("by_dock_resource", (q) => q.eq("dockId", dockA).eq("providerResourceId", "forged-volume"))
        .unique(),
    );
    expect(row).toMatchObject({ orgId: orgA, dockId: dockA, provider: "vultr" });
    expect(row?.provisioningSource).toBeUndefined();
    const after = await t.run(async (ctx) => ({
      volumes: await ctx.db
        .query("blockVolumes")
        .withIndex("by_orgId", (q) => q.eq("orgId", orgB))
        .collect(),
      servers: await ctx.db
        .query("servers")
        .withIndex("by_orgId", (q) => q.eq("orgId", orgB))
        .collect(),
    }));
    expect(after).toEqual(before);
  });

  test("an item with a field name Convex rejects is stored without that field; the rest of its chunk lands", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "member");
    const dockId = await seedDock(t, orgId, "vultr", emulator.accounts.vultr.token);
    expect((await syncNow(t, as, dockId)).lastSyncStatus).toBe("success");
    const account = emulator.accounts.vultr;
    emulator.setAccount("vultr", {
      ...account,
      volumes: [...account.volumes, { ...account.volumes[0], id: "zz-poison", $where: "1", "": 2 }],
    });
    const dock = await syncNow(t, as, dockId);
    expect(dock.lastSyncStatus).toBe("success");
    const rows = await t.run((ctx) => ctx.db.query("blockVolumes").collect());
    expect(rows.length).toBe(account.volumes.length + 1);
    const poison = rows.find((r) => r.providerResourceId === "zz-poison")!;
    expect(Object.keys(poison.fullApiData.block as object)).not.toContain("$where");
    expect(Object.keys(poison.fullApiData.block as object)).not.toContain("");
  });
});

// ---------------------------------------------------------------------------
// 5. A wrong or missing ENCRYPTION_MASTER_KEY

const OTHER_MASTER_KEY = "b2".repeat(32);

async function resourceRows(t: TestConvex) {
  return await t.run(async (ctx) => ({
    servers: await ctx.db.query("servers").collect(),
    blockVolumes: await ctx.db.query("blockVolumes").collect(),
    buckets: await ctx.db.query("buckets").collect(),
  }));
}

describe("ENCRYPTION_MASTER_KEY", () => {
  test.each([
    [
      "a different key",
      { value: OTHER_MASTER_KEY as string | undefined, message: /cannot be decrypted with ENCRYPTION_MASTER_KEY/ },
    ],
    ["no key", { value: undefined, message: /ENCRYPTION_MASTER_KEY is not set/ }],
    ["an empty key", { value: "", message: /ENCRYPTION_MASTER_KEY is not set/ }],
    ["a malformed key", { value: "not-hex", message: /ENCRYPTION_MASTER_KEY must be exactly 64 hex/ }],
  ] as const)(
    "with %s a sync fails with a clear error on the dock; key bytes and rows untouched; the right key heals it",
    async (_label, { value, message }) => {
      const t = newTest();
      const orgId = await seedOrg(t);
      const { as } = await seedMember(t, orgId, "member");
      const dockId = await seedDock(t, orgId, "vultr", emulator.accounts.vultr.token);
      expect((await syncNow(t, as, dockId)).lastSyncStatus).toBe("success");
      const keyBefore = hex(new Uint8Array((await t.run((ctx) => ctx.db.get("docks", dockId)))!.encryptedApiKey));
      const rowsBefore = await resourceRows(t);
      expect(rowsBefore.servers.length).toBeGreaterThan(0);
      emulator.resetRequests();

      if (value === undefined) delete process.env.ENCRYPTION_MASTER_KEY;
      else process.env.ENCRYPTION_MASTER_KEY = value;
      const failed = await syncNow(t, as, dockId);
      expect(failed.lastSyncStatus).toBe("error");
      expect(failed.lastSyncError).toMatch(message);
      expect(failed.consecutiveFailures).toBe(1);
      expect(hex(new Uint8Array(failed.encryptedApiKey))).toBe(keyBefore);
      expect(await resourceRows(t)).toEqual(rowsBefore);
      // No provider request was made without a readable key.
      expect(emulator.countRequests()).toBe(0);
      const [listed] = await as.query(api.docks.queries.listDocks, { orgId });
      expect(listed.lastSyncError).toMatch(/ENCRYPTION_MASTER_KEY/);

      process.env.ENCRYPTION_MASTER_KEY = TEST_MASTER_KEY;
      const healed = await syncNow(t, as, dockId);
      expect(healed.lastSyncStatus).toBe("success");
      expect(healed.consecutiveFailures).toBe(0);
      expect(hex(new Uint8Array(healed.encryptedApiKey))).toBe(keyBefore);
    },
  );

  test.each([
    ["missing", undefined as string | undefined],
    ["malformed", "0123"],
  ] as const)(
    "createDock with the master key %s fails with CONFIGURATION and stores nothing",
    async (_label, value) => {
      const t = newTest();
      const orgId = await seedOrg(t);
      const { as } = await seedMember(t, orgId, "admin");
      const before = await dump(t);
      if (value === undefined) delete process.env.ENCRYPTION_MASTER_KEY;
      else process.env.ENCRYPTION_MASTER_KEY = value;
      const result = await outcome(
        as.action(api.docks.actions.createDock, {
          orgId,
          name: "x",
          provider: "vultr",
          apiKey: emulator.accounts.vultr.token,
        }),
      );
      expect(result).toEqual({ code: "CONFIGURATION" });
      await settle(t);
      expect(await dump(t)).toEqual(before);
      // The master key is needed first, so the key never left for the provider.
      expect(emulator.countRequests({ provider: "vultr", path: "/v2/account" })).toBe(0);
    },
  );

  test("rotateDockKey with the master key missing fails with CONFIGURATION and keeps the stored key", async () => {
    const w = await world();
    const before = await dump(w.t);
    delete process.env.ENCRYPTION_MASTER_KEY;
    const result = await outcome(
      w.callers.admin.action(api.docks.actions.rotateDockKey, { dockId: w.dockId, apiKey: w.token }),
    );
    expect(result).toEqual({ code: "CONFIGURATION" });
    expect(await dump(w.t)).toEqual(before);
  });

  test("a tampered ciphertext (one flipped byte) is detected: the sync fails with a clear error, no provider call", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "member");
    const dockId = await seedDock(t, orgId, "vultr", emulator.accounts.vultr.token);
    await t.run(async (ctx) => {
      const dock = (await ctx.db.get("docks", dockId))!;
      const bytes = new Uint8Array(dock.encryptedApiKey.slice(0));
      bytes[bytes.length - 1] ^= 0x01;
      await ctx.db.patch("docks", dockId, { encryptedApiKey: bytes.buffer });
    });
    const dock = await syncNow(t, as, dockId);
    expect(dock.lastSyncStatus).toBe("error");
    expect(dock.lastSyncError).toMatch(/cannot be decrypted with ENCRYPTION_MASTER_KEY/);
    expect(emulator.countRequests()).toBe(0);
  });
});

describe("a leaked or altered database", () => {
  test("a ciphertext copied into another org's dock does not decrypt there, and no provider call is made", async () => {
    const t = newTest();
    const orgA = await seedOrg(t, "A");
    const orgB = await seedOrg(t, "B");
    const { as } = await seedMember(t, orgB, "member");
    const dockA = await seedDock(t, orgA, "vultr", emulator.accounts.vultr.token);
    const dockB = await seedDock(t, orgB, "vultr", "n".repeat(40));
    // Someone with write access to the database copies A's ciphertext into B's dock.
    await t.run(async (ctx) => {
      const a = (await ctx.db.get("docks", dockA))!;
      await ctx.db.patch("docks", dockB, { encryptedApiKey: a.encryptedApiKey });
    });
    const dock = await syncNow(t, as, dockB);
    expect(dock.lastSyncStatus).toBe("error");
    expect(dock.lastSyncError).toMatch(/cannot be decrypted/);
    expect(emulator.countRequests()).toBe(0);
  });
});
