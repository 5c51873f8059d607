// A hostile Spaces answer through a whole sync: names echoing the key pair,
// a CreationDate echoing it, the same name twice in one region, names with
// "/", and the summary against a recount of the rows.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { generateAccount, type ProviderAccount } from "../../../../docks/emulator/accounts";
import { startEmulator, type Emulator } from "../../../../docks/emulator/server";
import { api } from "../../../_generated/api";
import { recount } from "../../../resources/storageRecount.test.setup";
import { newTest, rowsOf, seedMember, seedOrg, syncNow, useEmulator } from "../../../test.setup";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startEmulator({
    accounts: { digitalocean: generateAccount("digitalocean", { seed: 7, servers: 1, volumes: 1, buckets: 4 }) },
  });
  useEmulator(emulator);
});
afterEach(() => emulator.close());

function pieces(secret: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 12 <= secret.length; i++) out.push(secret.slice(i, i + 12));
  return out;
}

/** An org with an admin and a viewer, and a DigitalOcean dock with the emulated Spaces key, synced once. */
async function spacesDock(beforeCreate?: (account: ProviderAccount, key: { accessKeyId: string; secretAccessKey: string }) => void) {
  const t = newTest();
  const orgId = await seedOrg(t);
  const { as: admin } = await seedMember(t, orgId, "admin");
  const { as: viewer } = await seedMember(t, orgId, "viewer");
  const account = emulator.accounts.digitalocean;
  const key = account.spacesKey!;
  beforeCreate?.(account, key);
  const dockId = await admin.action(api.docks.actions.createDock, {
    orgId,
    name: "DO",
    provider: "digitalocean",
    apiKey: account.token,
    spacesAccessKeyId: key.accessKeyId,
    spacesSecretAccessKey: key.secretAccessKey,
  });
  await t.finishAllScheduledFunctions(() => undefined);
  return { t, orgId, admin, viewer, account, dockId };
}

describe("a hostile Spaces answer", () => {
  test("echoes of the key, duplicate and slashed names: no piece of the key shown or stored, summary equals a recount", async () => {
    let first: ProviderAccount["buckets"][number] = {};
    const { t, orgId, admin, viewer, account, dockId } = await spacesDock((account, key) => {
      first = account.buckets[0];
      emulator.setAccount("digitalocean", {
        ...account,
        buckets: [
          ...account.buckets.map((b) => ({ ...b, creation_date: `echo ${key.secretAccessKey} ${key.accessKeyId}` })),
          { ...first, name: `x-${key.accessKeyId.toLowerCase()}` },
          { ...first, name: "a/b" },
          { ...first, name: "a/b" },
          { ...first, name: String(first.name) },
        ],
      });
    });
    const key = account.spacesKey!;
    const region = String(first.region);
    const synced = await syncNow(t, admin, dockId);
    const shown = JSON.stringify([
      await viewer.query(api.resources.queries.listBuckets, { orgId }),
      await viewer.query(api.docks.queries.getDock, { dockId }),
      synced,
      await rowsOf(t, "buckets", dockId),
      await t.run((ctx) => ctx.db.query("auditLogs").collect()),
    ]);
    const leaked = [...pieces(key.secretAccessKey), ...pieces(key.accessKeyId), ...pieces(key.accessKeyId.toLowerCase())].filter((p) =>
      shown.includes(p),
    );
    expect(leaked).toEqual([]);
    const keys = (await rowsOf(t, "buckets", dockId)).map((r) => r.providerResourceId);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toContain(`${region}/a/b`);
    const summary = await viewer.query(api.resources.summary.getStorageSummary, { orgId });
    expect(summary).toEqual(await recount(t, { orgIds: [orgId] }));
  });
});

describe("a hostile Spaces XML answer", () => {
  test("character references to lone surrogates and NUL, and a 5,000-character name, cost no other row and write nothing Convex refuses", async () => {
    const { vi } = await import("vitest");
    const { t, orgId, admin, viewer, account, dockId } = await spacesDock();
    const before = (await rowsOf(t, "buckets", dockId)).length;
    const realFetch = globalThis.fetch;
    const names = ["lone&#xD800;high", "nul&#0;byte", "y".repeat(5000), "../..", "ok-bucket"];
    const xml = `<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult><Buckets>${names
      .map((n) => `<Bucket><Name>${n}</Name><CreationDate>2024-01-01T00:00:00.000Z</CreationDate></Bucket>`)
      .join("")}</Buckets></ListAllMyBucketsResult>`;
    vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) =>
      String(input).includes("/nyc3.digitaloceanspaces.com/") ? new Response(xml, { status: 200 }) : realFetch(input, init),
    );
    try {
      const synced = await syncNow(t, admin, dockId);
      expect(synced.lastSyncStats?.servers?.complete).toBe(true);
      const rows = await rowsOf(t, "buckets", dockId);
      expect(rows.map((r) => r.providerResourceId)).toContain("nyc3/ok-bucket");
      // Buckets of the other regions are still listed whole.
      expect(rows.length).toBeGreaterThanOrEqual(before - account.buckets.filter((b) => b.region === "nyc3").length);
      const summary = await viewer.query(api.resources.summary.getStorageSummary, { orgId });
      expect(summary).toEqual(await recount(t, { orgIds: [orgId] }));
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe("a Spaces answer that is not a bucket list", () => {
  test("a ListAllMyBucketsResult without a Buckets element deletes no row", async () => {
    const { vi } = await import("vitest");
    const { t, admin, account, dockId } = await spacesDock();
    const before = (await rowsOf(t, "buckets", dockId)).map((r) => r.providerResourceId).sort();
    expect(before.length).toBe(account.buckets.length);
    const realFetch = globalThis.fetch;
    // An answer S3 never gives: even an account without buckets gets <Buckets/>.
    const xml = `<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult><Owner><ID>1</ID></Owner></ListAllMyBucketsResult>`;
    vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) =>
      String(input).includes(".digitaloceanspaces.com/") ? new Response(xml, { status: 200 }) : realFetch(input, init),
    );
    try {
      const synced = await syncNow(t, admin, dockId);
      const after = (await rowsOf(t, "buckets", dockId)).map((r) => r.providerResourceId).sort();
      expect({ after, stats: synced.lastSyncStats?.buckets?.deleted }).toEqual({ after: before, stats: 0 });
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
