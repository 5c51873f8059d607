// Name search over volumes and buckets: what a user finds, in which orgs, and
// what is refused. convex-test matches words split on whitespace only (Convex
// also splits on punctuation), so the names here separate words with spaces.
import { describe, expect, test } from "vitest";
import { api } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { newTest, seedDock, seedMember, seedOrg, type TestConvex } from "../test.setup";
import type { Provider } from "../validators";
import { MAX_SEARCH_LIMIT, MAX_SEARCH_TEXT, searchTerms } from "./search";

const TABLES = [
  { table: "blockVolumes" as const, ref: api.resources.search.searchBlockVolumes },
  { table: "buckets" as const, ref: api.resources.search.searchBuckets },
];

type Seed = { name: string; dockId: Id<"docks">; orgId: Id<"organizations">; provider: Provider; region: string };

async function insert(t: TestConvex, table: "blockVolumes" | "buckets", s: Seed) {
  const base = {
    orgId: s.orgId,
    dockId: s.dockId,
    provider: s.provider,
    providerResourceId: `${s.name}-${Math.random()}`,
    name: s.name,
    status: "active",
    region: s.region,
    fullApiData: {},
    updatedAt: 0,
  };
  await t.run(async (ctx) => {
    if (table === "blockVolumes") await ctx.db.insert("blockVolumes", { ...base, sizeGb: 10 });
    else await ctx.db.insert("buckets", { ...base, sizeBytes: 10, objectCount: 1 });
  });
}

async function world(table: "blockVolumes" | "buckets") {
  const t = newTest();
  const orgA = await seedOrg(t, "A");
  const orgB = await seedOrg(t, "B");
  const vultrA = await seedDock(t, orgA, "vultr", "va");
  const doA = await seedDock(t, orgA, "digitalocean", "da");
  const vultrB = await seedDock(t, orgB, "vultr", "vb");
  const rows: Seed[] = [
    { name: "billing db", dockId: vultrA, orgId: orgA, provider: "vultr", region: "ewr" },
    { name: "billing logs", dockId: doA, orgId: orgA, provider: "digitalocean", region: "nyc1" },
    { name: "postgres data", dockId: vultrA, orgId: orgA, provider: "vultr", region: "ams" },
    { name: "billing secrets", dockId: vultrB, orgId: orgB, provider: "vultr", region: "ewr" },
    { name: "scratch", dockId: vultrB, orgId: orgB, provider: "vultr", region: "ewr" },
  ];
  for (const r of rows) await insert(t, table, r);
  const viewerA = await seedMember(t, orgA, "viewer");
  const ownerB = await seedMember(t, orgB, "owner");
  const both = await seedMember(t, orgA, "member");
  await t.run((ctx) => ctx.db.insert("memberships", { orgId: orgB, userId: both.userId, role: "viewer" }));
  return { t, orgA, orgB, vultrA, doA, vultrB, viewerA: viewerA.as, ownerB: ownerB.as, both: both.as };
}

const names = (answer: { results: { name: string }[] }) => answer.results.map((r) => r.name).sort();

async function codeOf(call: Promise<unknown>): Promise<string | null> {
  try {
    await call;
    return null;
  } catch (e) {
    return (e as { data?: { code?: string } }).data?.code ?? String(e);
  }
}

describe.each(TABLES.map((v) => [v.table, v] as const))("searching %s by name", (table, { ref }) => {
  test("finds rows by a whole word and by the start of one", async () => {
    const w = await world(table);
    expect(names(await w.viewerA.query(ref, { text: "logs" }))).toEqual(["billing logs"]);
    expect(names(await w.viewerA.query(ref, { text: "bil" }))).toEqual(["billing db", "billing logs"]);
    expect(names(await w.viewerA.query(ref, { text: "  POSTGRES  " }))).toEqual(["postgres data"]);
    expect(names(await w.viewerA.query(ref, { text: "nothing" }))).toEqual([]);
  });

  test("without orgId searches every org the caller reads, and only those", async () => {
    const w = await world(table);
    expect(names(await w.viewerA.query(ref, { text: "billing" }))).toEqual(["billing db", "billing logs"]);
    expect(names(await w.ownerB.query(ref, { text: "billing" }))).toEqual(["billing secrets"]);
    expect(names(await w.both.query(ref, { text: "billing" }))).toEqual([
      "billing db",
      "billing logs",
      "billing secrets",
    ]);
    expect(names(await w.both.query(ref, { text: "billing", orgId: w.orgB }))).toEqual(["billing secrets"]);
  });

  test("another org's orgId or dockId finds nothing, never that org's rows", async () => {
    const w = await world(table);
    expect(await w.viewerA.query(ref, { text: "billing", orgId: w.orgB })).toEqual({ results: [], hasMore: false });
    expect(await w.viewerA.query(ref, { text: "billing", dockId: w.vultrB })).toEqual({ results: [], hasMore: false });
    expect(await w.ownerB.query(ref, { text: "billing", orgId: w.orgA, dockId: w.vultrA })).toEqual({
      results: [],
      hasMore: false,
    });
    // A dock of one's own org under another org's id: nothing either.
    expect(await w.both.query(ref, { text: "billing", orgId: w.orgB, dockId: w.vultrA })).toEqual({
      results: [],
      hasMore: false,
    });
  });

  test("filters by provider, dock and region", async () => {
    const w = await world(table);
    expect(names(await w.viewerA.query(ref, { text: "billing", provider: "digitalocean" }))).toEqual(["billing logs"]);
    expect(names(await w.viewerA.query(ref, { text: "billing", dockId: w.vultrA }))).toEqual(["billing db"]);
    expect(names(await w.viewerA.query(ref, { text: "billing", dockId: w.vultrA, provider: "linode" }))).toEqual([]);
    expect(names(await w.both.query(ref, { text: "billing", region: "ewr" }))).toEqual([
      "billing db",
      "billing secrets",
    ]);
    expect(names(await w.both.query(ref, { text: "billing", provider: "vultr", region: "nyc1" }))).toEqual([]);
  });

  test("answers at most `limit` rows, says when there are more, and takes every org's best before anyone's second", async () => {
    const w = await world(table);
    const two = await w.both.query(ref, { text: "billing", limit: 2 });
    expect(two.results).toHaveLength(2);
    expect(two.hasMore).toBe(true);
    expect(new Set(two.results.map((r) => r.orgId))).toEqual(new Set([w.orgA, w.orgB]));
    const all = await w.both.query(ref, { text: "billing", limit: 3 });
    expect(all.results).toHaveLength(3);
    expect(all.hasMore).toBe(false);
  });

  test("a blank or punctuation-only text finds nothing, without an error", async () => {
    const w = await world(table);
    for (const text of ["", "   ", "\t\n", "--- ..."]) {
      expect(await w.viewerA.query(ref, { text })).toEqual({ results: [], hasMore: false });
    }
  });

  test("an overlong text, too many words or a bad limit is refused with INVALID_ARGUMENT", async () => {
    const w = await world(table);
    expect(await codeOf(w.viewerA.query(ref, { text: "b".repeat(MAX_SEARCH_TEXT + 1) }))).toBe("INVALID_ARGUMENT");
    expect(await codeOf(w.viewerA.query(ref, { text: Array.from({ length: 17 }, (_, i) => `w${i}`).join(" ") }))).toBe(
      "INVALID_ARGUMENT",
    );
    for (const limit of [0, -1, 1.5, MAX_SEARCH_LIMIT + 1]) {
      expect(await codeOf(w.viewerA.query(ref, { text: "billing", limit }))).toBe("INVALID_ARGUMENT");
    }
    expect((await w.viewerA.query(ref, { text: "b".repeat(MAX_SEARCH_TEXT) })).results).toEqual([]);
  });

  test("without an identity: UNAUTHENTICATED; signed in but never stored: nothing", async () => {
    const w = await world(table);
    expect(await codeOf(w.t.query(ref, { text: "billing" }))).toBe("UNAUTHENTICATED");
    const ghost = w.t.withIdentity({ tokenIdentifier: "https://auth.test|ghost" });
    expect(await ghost.query(ref, { text: "billing" })).toEqual({ results: [], hasMore: false });
  });
});

describe("search terms", () => {
  test("split on whitespace and punctuation, as Convex's tokenizer does", () => {
    expect(searchTerms("db-prod_01 ewr/backup")).toEqual(["db", "prod", "01", "ewr", "backup"]);
    expect(searchTerms(" -- ")).toEqual([]);
  });
});
