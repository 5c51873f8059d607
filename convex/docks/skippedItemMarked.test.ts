// A listing with an unreadable item marks nothing it could not confirm: one
// of the unreadable items may be the row's.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Emulator } from "../../docks/emulator/server";
import { newTest, rowsOf, seedDock, seedMember, seedOrg, startTestEmulator, syncNow } from "../test.setup";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(() => emulator.close());

describe("a listing with an unreadable item", () => {
  test("does not mark the row of an unreadable item missing when the item's GET fails", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as } = await seedMember(t, orgId, "member");
    const account = emulator.accounts.digitalocean;
    const dockId = await seedDock(t, orgId, "digitalocean", account.token);
    await syncNow(t, as, dockId);
    const [first, ...rest] = account.volumes;
    const key = String(first.id);

    emulator.setAccount("digitalocean", { ...account, volumes: [{ ...first, size_gigabytes: "ten" }, ...rest] });
    emulator.addFault({ provider: "digitalocean", path: `/v2/volumes/${key}`, kind: "500", times: Infinity });
    await new Promise((r) => setTimeout(r, 5));
    const dock = await syncNow(t, as, dockId);
    expect(dock.lastSyncStats?.blockVolumes).toMatchObject({ skipped: 1, complete: true });

    const row = (await rowsOf(t, "blockVolumes", dockId)).find((r) => r.providerResourceId === key)!;
    expect(row.missingSince).toBeUndefined();
  });
});
