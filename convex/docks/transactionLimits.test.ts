// Convex's per-transaction limits (16 MiB read), enforced by convex-test's
// transactionLimits, against what a sync chunk and a dashboard list read.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Emulator } from "../../docks/emulator/server";
import { api } from "../_generated/api";
import { newTest, rowsOf, seedDock, seedMember, seedOrg, startTestEmulator, syncNow } from "../test.setup";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(() => emulator.close());

type Item = Record<string, unknown>;

/**
 * A DigitalOcean dock whose 1,000 volumes each hang on their own droplet of
 * about `dropletKb` KB: a chunk that read a droplet row per attachment would
 * pass 16 MiB.
 */
async function dockWithLargeDroplets(dropletKb: number) {
  const t = newTest({ limits: true });
  const orgId = await seedOrg(t);
  const { as } = await seedMember(t, orgId, "member");
  const account = emulator.accounts.digitalocean;
  const dockId = await seedDock(t, orgId, "digitalocean", account.token);
  const notes = Math.round(dropletKb / 4);
  const droplets: Item[] = Array.from({ length: 1000 }, (_, i) => ({
    ...account.servers[0],
    id: 500_000 + i,
    name: `web-${i}`,
    volume_ids: [`vol-${i}`],
    ...Object.fromEntries(Array.from({ length: notes }, (_, n) => [`note_${n}`, "n".repeat(4000)])),
  }));
  const volumes: Item[] = Array.from({ length: 1000 }, (_, i) => ({
    ...account.volumes[0],
    id: `vol-${i}`,
    droplet_ids: [500_000 + i],
  }));
  emulator.setAccount("digitalocean", { ...account, servers: droplets, volumes });
  return { t, as, dockId, account, droplets, volumes };
}

describe("a transaction's 16 MiB read", () => {
  test("1,000 volumes attached to 1,000 droplets of 20 KB sync, each chunk within the 16 MiB read", async () => {
    const { t, as, dockId } = await dockWithLargeDroplets(20);
    const dock = await syncNow(t, as, dockId);
    expect(dock.lastSyncStats?.servers?.errorCode).toBeUndefined();
    expect(dock.lastSyncStats?.blockVolumes?.error).toBeUndefined();
    expect((await rowsOf(t, "blockVolumes", dockId)).length).toBe(1000);
  });

  // Volume chunks never read a server row per attachment: the action reads
  // the dock's server names once, after the servers synced (or failed to).
  test("when the droplets listing fails, the volumes are still written, each chunk within the 16 MiB read", async () => {
    const { t, as, dockId, account, droplets, volumes } = await dockWithLargeDroplets(36);
    const first = await syncNow(t, as, dockId);
    expect(first.lastSyncStats?.servers?.errorCode).toBeUndefined();
    expect(first.lastSyncStats?.blockVolumes?.errorCode).toBeUndefined();

    emulator.addFault({ provider: "digitalocean", path: "/v2/droplets", kind: "500", times: Infinity });
    emulator.setAccount("digitalocean", {
      ...account,
      servers: droplets,
      volumes: volumes.map((v) => ({ ...v, name: `${String(v.name)}-renamed` })),
    });
    await new Promise((r) => setTimeout(r, 5));
    const second = await syncNow(t, as, dockId);
    const renamed = (await rowsOf(t, "blockVolumes", dockId)).filter((r) => r.name.endsWith("-renamed")).length;
    expect({ code: second.lastSyncStats?.blockVolumes?.errorCode, renamed }).toEqual({ code: undefined, renamed: 1000 });
  });

  test("listBlockVolumes refuses with TOO_MANY_ROWS before Convex's read limit when rows hold multi-byte text", async () => {
    const t = newTest({ limits: true });
    const orgId = await seedOrg(t);
    const { as: viewer } = await seedMember(t, orgId, "viewer");
    const dockId = await seedDock(t, orgId, "vultr", emulator.accounts.vultr.token);
    // Rows as a sync stores them: each item within the 64 KiB budget
    // (counted in UTF-8), here as 3-byte characters: ~21,000 UTF-16 units.
    const text = "存".repeat(4000);
    for (let batch = 0; batch < 4; batch++) {
      await t.run(async (ctx) => {
        for (let i = 0; i < 100; i++) {
          await ctx.db.insert("blockVolumes", {
            orgId,
            dockId,
            provider: "vultr",
            providerResourceId: `blk-${batch}-${i}`,
            name: "volume",
            sizeGb: 10,
            region: "ewr",
            status: "active",
            updatedAt: 0,
            fullApiData: { block: { a: text, b: text, c: text, d: text, e: text } },
          });
        }
      });
    }
    // A full answer, or TOO_MANY_ROWS; never Convex's read limit.
    const outcome = await viewer.query(api.resources.queries.listBlockVolumes, { orgId }).then(
      (rows) => `${rows.length} rows`,
      (e: unknown) => ((e as { data?: { code?: string } }).data?.code ?? String((e as Error).message)),
    );
    expect(["400 rows", "TOO_MANY_ROWS"]).toContain(outcome);
  });
});
