// A row is deleted only when its item is gone at the provider, as its
// single-item GET (404) confirms; however many listings miss it, it is only
// marked missing. A listing that shifts while it is read must not cost a live
// item its row or its project links.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { ProviderAccount } from "../../docks/emulator/accounts";
import type { Emulator } from "../../docks/emulator/server";
import type { Doc, Id } from "../_generated/dataModel";
import { newTest, rowsOf, seedDock, seedMember, seedOrg, startTestEmulator, syncNow, type TestConvex } from "../test.setup";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(() => emulator.close());

type Item = Record<string, unknown>;

// Each storage listing: where its items land, the account list they come
// from, its path and page maximum. Linode has two.
const LISTINGS = [
  { name: "vultr blocks", provider: "vultr", table: "blockVolumes", list: "volumes", path: "/v2/blocks", pageMax: 500 },
  { name: "digitalocean volumes", provider: "digitalocean", table: "blockVolumes", list: "volumes", path: "/v2/volumes", pageMax: 200 },
  { name: "linode volumes", provider: "linode", table: "blockVolumes", list: "volumes", path: "/v4/volumes", pageMax: 500 },
  { name: "linode buckets", provider: "linode", table: "buckets", list: "buckets", path: "/v4/object-storage/buckets", pageMax: 500 },
] as const;
type Listing = (typeof LISTINGS)[number];

/** The row key of a provider item (Linode buckets: region/label). */
function keyOf(listing: Listing, item: Item): string {
  return listing.list === "buckets" ? `${String(item.region)}/${String(item.label)}` : String(item.id);
}

/** The provider's single-item path for an item. */
function itemPath(listing: Listing, item: Item): string {
  return listing.list === "buckets"
    ? `${listing.path}/${String(item.region)}/${String(item.label)}`
    : `${listing.path}/${String(item.id)}`;
}

function itemsOf(listing: Listing): Item[] {
  return emulator.accounts[listing.provider][listing.list] as Item[];
}

function withItems(listing: Listing, items: Item[]): ProviderAccount {
  return { ...emulator.accounts[listing.provider], [listing.list]: items };
}

/** A new item shaped like `like`, with a fresh key (Linode volume ids are numbers). */
function newItem(listing: Listing, like: Item, n: number): Item {
  if (listing.list === "buckets") return { ...like, label: `added-bucket-${n}` };
  return listing.provider === "linode" ? { ...like, id: 900_000_000 + n } : { ...like, id: `added-${n}-0000-0000` };
}

async function dockFor(listing: Listing, t: TestConvex = newTest()) {
  const { provider } = listing;
  const orgId = await seedOrg(t);
  const { as } = await seedMember(t, orgId, "member");
  const dockId = await seedDock(t, orgId, provider, emulator.accounts[provider].token);
  return { t, orgId, as, dockId };
}

const storageRows = (t: TestConvex, listing: Listing, dockId: Id<"docks">) =>
  rowsOf(t, listing.table, dockId) as Promise<(Doc<"blockVolumes"> | Doc<"buckets">)[]>;

async function linkToProject(t: TestConvex, orgId: Id<"organizations">, listing: Listing, rowId: string) {
  return await t.run(async (ctx) => {
    const projectId = await ctx.db.insert("projects", { orgId, name: "Production" });
    return await ctx.db.insert("projectResources", {
      orgId,
      projectId,
      resourceTable: listing.table,
      resourceId: rowId,
    });
  });
}

describe.each(LISTINGS)("deletions of a dock's $name", (listing) => {
  const { provider, table, path, pageMax } = listing;

  test("a listing that shifts while it is read (one item deleted, one created, same total) costs no live item its row or links", async () => {
    const { t, orgId, as, dockId } = await dockFor(listing);
    const base = itemsOf(listing)[0];
    const start = Array.from({ length: pageMax + 50 }, (_, i) => newItem(listing, base, i));
    emulator.setAccount(provider, withItems(listing, start));
    await syncNow(t, as, dockId);
    // The first item of page 2 is the one the shift hides.
    const hidden = start[pageMax];
    const hiddenRow = (await storageRows(t, listing, dockId)).find((r) => r.providerResourceId === keyOf(listing, hidden))!;
    const link = await linkToProject(t, orgId, listing, hiddenRow._id);

    // Page 2 is answered late, after the first item was deleted and a new one
    // created at the provider: page 2 then starts one item late.
    emulator.resetRequests();
    emulator.addFault({ provider, path, page: 2, kind: "timeout", delayMs: 400 });
    const isPage2 = (r: Emulator["requests"][number]) =>
      r.path === path && (provider === "vultr" ? r.query.cursor !== undefined : r.query.page === "2");
    const added = newItem(listing, base, 9999);
    const shift = (async () => {
      for (let i = 0; i < 2_000 && !emulator.requests.some(isPage2); i++) {
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      emulator.setAccount(provider, withItems(listing, [...start.slice(1), added]));
    })();
    const [dock] = await Promise.all([syncNow(t, as, dockId), shift]);

    const rows = await storageRows(t, listing, dockId);
    const keys = new Set(rows.map((r) => r.providerResourceId));
    // The listing looked complete, but it skipped the hidden item. Its single
    // GET shows it still exists: its row and its project link stay.
    expect(dock.lastSyncStats?.[table]).toMatchObject({ complete: true, deleted: 0, lookups: 1 });
    expect(emulator.countRequests({ provider, path: itemPath(listing, hidden) })).toBe(1);
    expect(keys.has(keyOf(listing, hidden))).toBe(true);
    expect(await t.run((ctx) => ctx.db.get("projectResources", link))).not.toBeNull();
    // The item deleted after page 1 was read was listed, so it stays until
    // the next sync; the created one is in.
    expect(keys.has(keyOf(listing, start[0]))).toBe(true);
    expect(keys.has(keyOf(listing, added))).toBe(true);

    // The next sync reads the settled list: every item the provider has, once,
    // and the hidden item still has its link.
    const next = await syncNow(t, as, dockId);
    expect(next.lastSyncStats?.[table]).toMatchObject({ deleted: 1, lookups: 1 });
    const after = await storageRows(t, listing, dockId);
    expect(after.map((r) => r.providerResourceId).sort()).toEqual(itemsOf(listing).map((i) => keyOf(listing, i)).sort());
    expect(await t.run((ctx) => ctx.db.get("projectResources", link))).not.toBeNull();
  });

  test("an unlisted row whose single-item GET fails is marked missing and kept, sync after sync, until the GET answers 404", async () => {
    const { t, as, dockId } = await dockFor(listing);
    await syncNow(t, as, dockId);
    const [gone, ...rest] = itemsOf(listing);
    emulator.setAccount(provider, withItems(listing, rest));
    emulator.addFault({ provider, path: itemPath(listing, gone), kind: "500", times: Infinity });

    const first = await syncNow(t, as, dockId);
    expect(first.lastSyncStats?.[table]).toMatchObject({ deleted: 0, missing: 1, complete: true });
    const marked = (await storageRows(t, listing, dockId)).find((r) => r.providerResourceId === keyOf(listing, gone));
    expect(marked?.missingSince).toBeTypeOf("number");

    // Missing from a second complete listing is still no proof.
    const second = await syncNow(t, as, dockId);
    expect(second.lastSyncStats?.[table]).toMatchObject({ deleted: 0, missing: 1, complete: true });
    expect((await storageRows(t, listing, dockId)).some((r) => r.providerResourceId === keyOf(listing, gone))).toBe(true);

    emulator.clearFaults();
    const third = await syncNow(t, as, dockId);
    expect(third.lastSyncStats?.[table]).toMatchObject({ deleted: 1, missing: 0, complete: true });
    const keys = new Set((await storageRows(t, listing, dockId)).map((r) => r.providerResourceId));
    expect(keys.has(keyOf(listing, gone))).toBe(false);
    expect(keys.size).toBe(rest.length);
  });

  test("a row marked missing that is listed again is unmarked and kept", async () => {
    const { t, as, dockId } = await dockFor(listing);
    await syncNow(t, as, dockId);
    const all = itemsOf(listing);
    const [back, ...rest] = all;
    emulator.setAccount(provider, withItems(listing, rest));
    emulator.addFault({ provider, path: itemPath(listing, back), kind: "500", times: Infinity });
    expect((await syncNow(t, as, dockId)).lastSyncStats?.[table]).toMatchObject({ missing: 1 });

    emulator.setAccount(provider, withItems(listing, all));
    const dock = await syncNow(t, as, dockId);
    expect(dock.lastSyncStats?.[table]).toMatchObject({ deleted: 0 });
    const row = (await storageRows(t, listing, dockId)).find((r) => r.providerResourceId === keyOf(listing, back));
    expect(row).toBeDefined();
    expect(row?.missingSince).toBeUndefined();

    // Missing once more later starts over: marked, not deleted.
    emulator.setAccount(provider, withItems(listing, rest));
    expect((await syncNow(t, as, dockId)).lastSyncStats?.[table]).toMatchObject({ deleted: 0, missing: 1 });
  });

  test("a listing that fails part-way settles nothing: no lookups, no marks, no deletions", async () => {
    const { t, as, dockId } = await dockFor(listing);
    const base = itemsOf(listing)[0];
    const start = Array.from({ length: pageMax + 50 }, (_, i) => newItem(listing, base, i));
    emulator.setAccount(provider, withItems(listing, start));
    await syncNow(t, as, dockId);
    // Page 2 fails: its 50 items are not seen, and must not be taken for gone.
    emulator.addFault({ provider, path, page: 2, kind: "500", times: Infinity });
    emulator.resetRequests();
    const dock = await syncNow(t, as, dockId);
    expect(dock.lastSyncStats?.[table]).toMatchObject({ deleted: 0, complete: false });
    const rows = await storageRows(t, listing, dockId);
    expect(rows.length).toBe(pageMax + 50);
    expect(rows.filter((r) => r.missingSince !== undefined)).toEqual([]);
    // No single-item GET (Linode's volume price list sits under the same path and is no lookup).
    expect(emulator.requests.filter((r) => r.path.startsWith(`${path}/`) && r.path !== "/v4/volumes/types")).toEqual([]);
  });
});
