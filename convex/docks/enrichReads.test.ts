// Volume chunks never read a server row per attachment: the action reads the
// dock's server names once, after the servers synced (or failed to), and sends
// each chunk the names it needs, so large droplets cannot push a chunk past
// Convex's 16 MiB read.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Emulator } from "../../docks/emulator/server";
import { newTest, rowsOf, seedDock, seedMember, seedOrg, startTestEmulator, syncNow } from "../test.setup";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(() => emulator.close());

type Item = Record<string, unknown>;

describe("a DigitalOcean sync whose droplets listing fails", () => {
  test("still writes its volumes, each chunk within the 16 MiB a transaction may read", async () => {
    const t = newTest({ limits: true });
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "member");
    const account = emulator.accounts.digitalocean;
    const dockId = await seedDock(t, orgId, "digitalocean", account.token);
    // Droplets of about 38 KB: a page of 200 stays under the client's 8 MiB.
    const droplets: Item[] = Array.from({ length: 1000 }, (_, i) => ({
      ...account.servers[0],
      id: 500_000 + i,
      name: `web-${i}`,
      volume_ids: [`vol-${i}`],
      ...Object.fromEntries([0, 1, 2, 3, 4, 5, 6, 7, 8].map((n) => [`note_${n}`, "n".repeat(4000)])),
    }));
    const volumes: Item[] = Array.from({ length: 1000 }, (_, i) => ({
      ...account.volumes[0],
      id: `vol-${i}`,
      droplet_ids: [500_000 + i],
    }));
    emulator.setAccount("digitalocean", { ...account, servers: droplets, volumes });
    const first = await syncNow(t, as, dockId);
    expect(first.lastSyncStats?.servers?.errorCode).toBeUndefined();
    expect(first.lastSyncStats?.blockVolumes?.errorCode).toBeUndefined();

    // The droplets listing now fails; the volumes, renamed, list fine.
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
});
