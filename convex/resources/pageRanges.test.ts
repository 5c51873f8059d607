// Paging the volume and bucket tables through every filter and sort the way
// usePaginatedQuery does: the same args page after page, the cursor carried
// forward, a few rows at a time, compared with the rows filtered and sorted
// here independently of the index design.
import type { PaginatedQueryArgs } from "convex/react";
import { beforeAll, describe, expect, test } from "vitest";
import { api } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import schema from "../schema";
import { newTest, seedDock, seedMember, seedOrg, type TestConvex } from "../test.setup";
import type { Provider, ResourceSort } from "../validators";
import { checkFilters, planPage } from "./pageRanges";

type VolumeArgs = PaginatedQueryArgs<typeof api.resources.queries.paginateBlockVolumes>;
type Client = Pick<TestConvex, "query">;
type Row = Doc<"blockVolumes"> | Doc<"buckets">;
type Page = { page: Row[]; isDone: boolean; continueCursor: string };

const TABLES = [
  {
    table: "blockVolumes" as const,
    ref: api.resources.queries.paginateBlockVolumes,
    size: (r: Row) => (r as Doc<"blockVolumes">).sizeGb,
    unattachedFilter: true,
  },
  {
    table: "buckets" as const,
    ref: api.resources.queries.paginateBuckets,
    size: (r: Row) => (r as Doc<"buckets">).sizeBytes,
    unattachedFilter: false,
  },
];
type Variant = (typeof TABLES)[number];

type DockName = "vultr1" | "vultr2" | "do1" | "foreign";

/** A combination as the test names it; dock names become ids once seeded. */
type Combo = {
  dock?: DockName;
  provider?: Provider;
  region?: string;
  unattachedOnly?: boolean;
  sort?: ResourceSort;
};

const SCOPES: Combo[] = [
  {},
  { provider: "vultr" },
  { provider: "digitalocean" },
  { provider: "linode" },
  { dock: "vultr1" },
  { dock: "do1", provider: "digitalocean" },
  { dock: "vultr1", provider: "digitalocean" },
  { dock: "foreign" },
  { provider: "vultr", region: "ewr" },
  { provider: "digitalocean", region: "sfo3" },
  { provider: "vultr", region: "nowhere" },
  { region: "ewr" },
  { dock: "vultr1", region: "ewr" },
];
const SORTS: (ResourceSort | undefined)[] = [undefined, "name", "size"];

function combos(variant: Variant): Combo[] {
  const unattached = variant.unattachedFilter ? [undefined, false, true] : [undefined];
  return SCOPES.flatMap((scope) =>
    unattached.flatMap((unattachedOnly) =>
      SORTS.map((sort) => ({
        ...scope,
        ...(unattachedOnly === undefined ? {} : { unattachedOnly }),
        ...(sort === undefined ? {} : { sort }),
      })),
    ),
  );
}

function label(c: Combo): string {
  const parts = Object.entries(c).map(([k, v]) => `${k}=${String(v)}`);
  return parts.length === 0 ? "no filter, stored order" : parts.join(" ");
}

/** The combinations the design refuses (docs/find-and-sort.md), stated here on their own. */
function refused(c: Combo): boolean {
  return c.region !== undefined && c.dock !== undefined;
}

/** The sort a combination reads in: a region or unattached filter without one reads largest first. */
function sortOf(c: Combo): ResourceSort | undefined {
  return c.sort ?? (c.region !== undefined || c.unattachedOnly === true ? "size" : undefined);
}

type World = Awaited<ReturnType<typeof seedWorld>>;

// Ties on purpose: sizes and names repeat, across docks, providers and regions.
const SIZES = [10, 50, 10, 20, 50, 5, 50];
const NAMES = ["data", "alpha", "Data", "data", "zeta", "alpha"];

function rowFields(i: number, dock: { id: Id<"docks">; provider: Provider }, orgId: Id<"organizations">) {
  const regions = dock.provider === "vultr" ? ["ewr", "ams"] : ["nyc1", "sfo3"];
  return {
    orgId,
    dockId: dock.id,
    provider: dock.provider,
    providerResourceId: `key-${i}`,
    name: NAMES[i % NAMES.length],
    status: "active",
    region: regions[Math.floor(i / 3) % 2],
    fullApiData: {},
    updatedAt: 0,
    size: SIZES[i % SIZES.length],
    attached: Math.floor(i / 2) % 2 === 0 ? undefined : `instance-${i}`,
  };
}

async function insertRow(t: TestConvex, table: Variant["table"], f: ReturnType<typeof rowFields>) {
  const { size, attached, ...common } = f;
  return await t.run(async (ctx) =>
    table === "blockVolumes"
      ? await ctx.db.insert("blockVolumes", {
          ...common,
          sizeGb: size,
          ...(attached === undefined ? {} : { attachedToInstance: attached }),
        })
      : await ctx.db.insert(
          "buckets",
          // Every fifth bucket's size is unknown (as Vultr's are): largest
          // first lists those last.
          f.providerResourceId.endsWith("0") || f.providerResourceId.endsWith("5")
            ? common
            : { ...common, sizeBytes: size * 1_000_000, objectCount: 1 },
        ),
  );
}

async function seedWorld(table: Variant["table"]) {
  const t = newTest();
  const orgA = await seedOrg(t, "A");
  const orgB = await seedOrg(t, "B");
  const docks = {
    vultr1: { id: await seedDock(t, orgA, "vultr", "v1"), provider: "vultr" as const },
    vultr2: { id: await seedDock(t, orgA, "vultr", "v2"), provider: "vultr" as const },
    do1: { id: await seedDock(t, orgA, "digitalocean", "d1"), provider: "digitalocean" as const },
    foreign: { id: await seedDock(t, orgB, "vultr", "f1"), provider: "vultr" as const },
  };
  const inA = [docks.vultr1, docks.vultr2, docks.do1];
  for (let i = 0; i < 24; i++) await insertRow(t, table, rowFields(i, inA[i % 3], orgA));
  // The other org's rows look the same: a leak would show in any combination.
  for (let i = 0; i < 8; i++) await insertRow(t, table, rowFields(100 + i, docks.foreign, orgB));
  const viewer = await seedMember(t, orgA, "viewer");
  const outsider = await seedMember(t, orgB, "owner");
  return { t, orgA, orgB, docks, viewer: viewer.as, outsider: outsider.as };
}

function argsOf(w: World, c: Combo): VolumeArgs {
  const { dock, ...rest } = c;
  return { orgId: w.orgA, ...rest, ...(dock === undefined ? {} : { dockId: w.docks[dock].id }) };
}

async function allRows(w: World, table: Variant["table"]): Promise<Row[]> {
  return await w.t.run(async (ctx) => [
    ...(await ctx.db.query(table).collect()),
  ]);
}

/** What the table should show for a combination: filtered and sorted from the rows themselves. */
function expected(w: World, variant: Variant, rows: Row[], c: Combo): string[] {
  const dock = c.dock === undefined ? undefined : w.docks[c.dock];
  const kept = rows.filter(
    (r) =>
      r.orgId === w.orgA &&
      (dock === undefined || r.dockId === dock.id) &&
      (c.provider === undefined || r.provider === c.provider) &&
      (c.region === undefined || r.region === c.region) &&
      (c.unattachedOnly !== true || (r as Doc<"blockVolumes">).attachedToInstance === undefined),
  );
  // Equal keys keep the stored order; by size the whole order is reversed,
  // so among equal sizes the newest row comes first.
  const byCreation = (a: Row, b: Row) => a._creationTime - b._creationTime;
  // An unknown size (a bucket whose provider reports none) sorts below every
  // size in an index, so largest-first puts it last.
  const sizeOrder = (size: number | undefined) => size ?? -Infinity;
  const sorted =
    sortOf(c) === "name"
      ? kept.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : byCreation(a, b)))
      : sortOf(c) === "size"
        ? kept.sort((a, b) => sizeOrder(variant.size(b)) - sizeOrder(variant.size(a)) || byCreation(b, a))
        : kept.sort(byCreation);
  return sorted.map((r) => r._id);
}

/** usePaginatedQuery's walk: the same args, numItems at a time, cursor forward, to the end. */
async function pageThrough(client: Client, variant: Variant, args: VolumeArgs, numItems = 4) {
  const pages: { cursor: string | null; result: Page }[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 100; i++) {
    const result = (await client.query(variant.ref, {
      ...(args as PaginatedQueryArgs<typeof variant.ref>),
      paginationOpts: { numItems, cursor },
    })) as Page;
    pages.push({ cursor, result });
    if (result.isDone) return pages;
    cursor = result.continueCursor;
  }
  throw new Error("paging did not end");
}

const ids = (pages: { result: Page }[]): string[] => pages.flatMap((p) => p.result.page.map((r) => r._id as string));

async function refusal(call: Promise<unknown>): Promise<string | null> {
  try {
    await call;
    return null;
  } catch (e) {
    const data = (e as { data?: { code?: string } }).data;
    return data?.code ?? String(e);
  }
}

describe.each(TABLES.map((v) => [v.table, v] as const))("paging %s through every filter and sort", (_t, variant) => {
  let w: World;
  let rows: Row[];
  beforeAll(async () => {
    w = await seedWorld(variant.table);
    rows = await allRows(w, variant.table);
  });

  const cases = combos(variant);

  test("the combinations cover ties: equal sizes and equal names within one answer", () => {
    expect(new Set(SIZES).size).toBeLessThan(SIZES.length);
    expect(new Set(NAMES).size).toBeLessThan(NAMES.length);
    expect(cases.length).toBe(SCOPES.length * SORTS.length * (variant.unattachedFilter ? 3 : 1));
  });

  test.each(cases.filter((c) => !refused(c)).map((c) => [label(c), c] as const))(
    "%s: pages of 4 add up to the filtered, sorted rows, once each",
    async (_label, c) => {
      const pages = await pageThrough(w.viewer, variant, argsOf(w, c));
      const seen = ids(pages);
      expect(seen).toEqual(expected(w, variant, rows, c));
      expect(new Set(seen).size).toBe(seen.length);
      for (const p of pages) expect(p.result.page.length).toBeLessThanOrEqual(4);
    },
  );

  test.each(cases.filter((c) => refused(c)).map((c) => [label(c), c] as const))(
    "%s: refused with FILTER_NOT_SUPPORTED, never answered by a scan",
    async (_label, c) => {
      const call = w.viewer.query(variant.ref, {
        ...(argsOf(w, c) as PaginatedQueryArgs<typeof variant.ref>),
        paginationOpts: { numItems: 4, cursor: null },
      });
      expect(await refusal(call)).toBe("FILTER_NOT_SUPPORTED");
    },
  );

  test.each(cases.map((c) => [label(c), c] as const))(
    "%s: an owner of another org gets an empty page for this org",
    async (_label, c) => {
      const pages = await pageThrough(w.outsider, variant, argsOf(w, c));
      expect(pages).toHaveLength(1);
      expect(pages[0].result).toEqual({ page: [], isDone: true, continueCursor: "" });
    },
  );
});

/**
 * Rows change while the table is paged: Convex re-runs each loaded page with
 * the bounds it first had (its start cursor and the end it reached), so the
 * pages still tile the range. The test re-runs them with those bounds
 * (endCursor), as the deployment's query journal does, and compares with
 * the rows as they are now.
 */
describe.each(TABLES.map((v) => [v.table, v] as const))("paging %s while rows change", (_t, variant) => {
  // The combinations whose view holds rows (the others stay empty whatever changes).
  const changing = combos(variant).filter(
    (c) =>
      !refused(c) &&
      c.dock !== "foreign" &&
      c.region !== "nowhere" &&
      c.provider !== "linode" &&
      !(c.dock === "vultr1" && c.provider === "digitalocean"),
  );

  test.each(changing.map((c) => [label(c), c] as const))(
    "%s: no row twice, none missing, pages stay valid",
    async (_label, c) => {
      const w = await seedWorld(variant.table);
      const args = argsOf(w, c);
      const first = await pageThrough(w.viewer, variant, args, 3);
      // Two pages read, then the rows change under the cursor.
      const pages = first.slice(0, 2);
      const last = pages[pages.length - 1].result;
      const cursor = last.isDone ? null : last.continueCursor;
      const read = ids(pages);
      const view = expected(w, variant, await allRows(w, variant.table), c);
      const untouched = new Set(view);
      const ahead = view.filter((id) => !read.includes(id));
      await w.t.run(async (ctx) => {
        const table = variant.table as "blockVolumes";
        const rowOf = async (id: string | undefined) =>
          id === undefined ? null : await ctx.db.get(table, id as Id<"blockVolumes">);
        const sizeField = variant.table === "blockVolumes" ? "sizeGb" : "sizeBytes";
        // A row already read moves to the end, one not yet read to the front;
        // one of each is deleted; an attached volume is detached.
        const template = (await rowOf(view[0]))!;
        const moved = [await rowOf(read[0]), await rowOf(ahead[0])];
        const gone = [await rowOf(read[1]), await rowOf(ahead[1])];
        if (moved[0]) await ctx.db.patch(table, moved[0]._id, { [sizeField]: 1, name: "zz-moved" });
        if (moved[1]) await ctx.db.patch(table, moved[1]._id, { [sizeField]: 999_999_999, name: "AA-moved" });
        for (const r of gone) if (r) await ctx.db.delete(table, r._id);
        for (const r of [...moved, ...gone]) if (r) untouched.delete(r._id);
        if (variant.table === "blockVolumes") {
          const all = await ctx.db.query("blockVolumes").collect();
          const attached = all.find(
            (r) => r.orgId === w.orgA && r.attachedToInstance !== undefined && untouched.has(r._id) === false,
          );
          if (attached) await ctx.db.patch("blockVolumes", attached._id, { attachedToInstance: undefined });
        }
        // New rows in the view: one sorting first, one last, one in the middle.
        for (const [n, size] of [["aaa", 100_000], ["mmm", 20], ["zzz", 0]] as const) {
          const base = {
            orgId: w.orgA,
            dockId: template.dockId,
            provider: template.provider,
            providerResourceId: `new-${n}`,
            name: n,
            status: "active",
            region: template.region,
            fullApiData: {},
            updatedAt: 0,
          };
          if (variant.table === "blockVolumes") await ctx.db.insert("blockVolumes", { ...base, sizeGb: size });
          else await ctx.db.insert("buckets", { ...base, sizeBytes: size, objectCount: 0 });
        }
      });
      // The hook carries on from its cursor with the same args...
      if (cursor !== null) {
        let next: string | null = cursor;
        for (let i = 0; i < 100 && next !== null; i++) {
          const result = (await w.viewer.query(variant.ref, {
            ...(args as PaginatedQueryArgs<typeof variant.ref>),
            paginationOpts: { numItems: 3, cursor: next },
          })) as Page;
          pages.push({ cursor: next, result });
          next = result.isDone ? null : result.continueCursor;
        }
      }
      const forward = ids(pages);
      // ...and rows no one touched show up exactly once on the way.
      const expectedNow = expected(w, variant, await allRows(w, variant.table), c);
      for (const id of expectedNow.filter((x) => untouched.has(x))) {
        expect(forward.filter((x) => x === id)).toHaveLength(1);
      }
      // Each loaded page re-runs reactively within its first bounds: together exactly the rows now.
      const rerun: string[] = [];
      for (const p of pages) {
        const result = (await w.viewer.query(variant.ref, {
          ...(args as PaginatedQueryArgs<typeof variant.ref>),
          paginationOpts: { numItems: 3, cursor: p.cursor, endCursor: p.result.continueCursor },
        })) as Page;
        rerun.push(...result.page.map((r) => r._id));
      }
      expect(rerun).toEqual(expectedNow);
    },
  );
});

describe("the unattached filter", () => {
  test("reads volumes without attachedToInstance through the index (eq undefined), including ones detached later", async () => {
    const w = await seedWorld("blockVolumes");
    const volume = TABLES[0];
    const before = ids(await pageThrough(w.viewer, volume, { orgId: w.orgA, unattachedOnly: true, sort: "size" }));
    const attached = (await allRows(w, "blockVolumes")).find(
      (r) => r.orgId === w.orgA && (r as Doc<"blockVolumes">).attachedToInstance !== undefined,
    )!;
    expect(before).not.toContain(attached._id as string);
    await w.t.run((ctx) => ctx.db.patch("blockVolumes", attached._id as Id<"blockVolumes">, { attachedToInstance: undefined }));
    const after = ids(await pageThrough(w.viewer, volume, { orgId: w.orgA, unattachedOnly: true, sort: "size" }));
    expect(after).toContain(attached._id as string);
    expect(after).toHaveLength(before.length + 1);
  });
});

type ExportedTable = {
  export(): { indexes: { indexDescriptor: string; fields: string[] }[]; searchIndexes: unknown[]; vectorIndexes?: unknown[] };
};
const exported = (table: "blockVolumes" | "buckets") =>
  (schema.tables[table] as unknown as ExportedTable).export();

describe("the index design", () => {
  test("each table stays within Convex's 32 indexes, its search index included (25 on volumes, 15 on buckets)", () => {
    const count = (table: "blockVolumes" | "buckets") => {
      const e = exported(table);
      return e.indexes.length + e.searchIndexes.length + (e.vectorIndexes?.length ?? 0);
    };
    expect(count("blockVolumes")).toBe(25);
    expect(count("buckets")).toBe(15);
  });

  test.each(TABLES.map((v) => [v.table, v] as const))(
    "every %s range a served combination reads is an index whose leading fields are its equalities, then the sort field",
    async (_t, variant) => {
      const w = await seedWorld(variant.table);
      const indexes = new Map(exported(variant.table).indexes.map((i) => [i.indexDescriptor, i.fields]));
      const sizeField = variant.table === "blockVolumes" ? "sizeGb" : "sizeBytes";
      for (const c of combos(variant).filter((x) => !refused(x))) {
        const args = { ...argsOf(w, c), paginationOpts: { numItems: 1, cursor: null } };
        const plan = await w.t.run(async (ctx) => {
          checkFilters(variant.table, args);
          const p = await planPage(ctx, variant.table, args);
          // Only names leave the transaction: the unattached equality's value is undefined.
          return p === null ? null : { index: p.index, equalFields: p.equal.map(([field]) => field), order: p.order };
        });
        if (plan === null) continue;
        const fields = indexes.get(plan.index);
        expect(fields, `${label(c)} reads ${plan.index}`).toBeDefined();
        const sortField = sortOf(c) === "name" ? ["name"] : sortOf(c) === "size" ? [sizeField] : [];
        expect(fields, label(c)).toEqual([...plan.equalFields, ...sortField]);
        expect(plan.order, label(c)).toBe(sortOf(c) === "size" ? "desc" : "asc");
      }
    },
  );
});
