// An outsider (signed in, member of another org) and a viewer probing every
// public read with the other org's ids, names and regions.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Emulator } from "../../docks/emulator/server";
import { api } from "../_generated/api";
import { newTest, rowsOf, seedDock, seedMember, seedOrg, startTestEmulator, syncNow } from "../test.setup";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(() => emulator.close());

describe("an outsider probing the other org", () => {
  test("learns nothing from summary, search, pages, dock reads or the sync button, for a live, a removed and a made-up dock", async () => {
    const t = newTest();
    const orgId = await seedOrg(t, "Victim");
    const { as: member } = await seedMember(t, orgId, "member");
    const dockId = await seedDock(t, orgId, "vultr", emulator.accounts.vultr.token);
    await syncNow(t, member, dockId);
    const gone = await seedDock(t, orgId, "linode", emulator.accounts.linode.token, { deletingAt: 1 });
    const mine = await seedOrg(t, "Mine");
    const { as: stranger } = await seedMember(t, mine, "owner");
    const madeUp = await seedDock(t, orgId, "digitalocean", emulator.accounts.digitalocean.token);
    await t.run((ctx) => ctx.db.delete("docks", madeUp));
    const volume = (await rowsOf(t, "blockVolumes", dockId))[0];
    const word = volume.name.split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0)[0];

    const answers: unknown[] = [];
    for (const d of [dockId, gone, madeUp]) {
      answers.push(await stranger.query(api.resources.summary.getStorageSummary, { dockId: d }));
      answers.push(await stranger.query(api.resources.search.searchBlockVolumes, { text: word, dockId: d }));
      answers.push(await stranger.query(api.resources.search.searchBlockVolumes, { text: word, orgId, dockId: d }));
      answers.push(
        await stranger.query(api.resources.queries.paginateBlockVolumes, {
          orgId: mine,
          dockId: d,
          paginationOpts: { numItems: 10, cursor: null },
        }),
      );
    }
    answers.push(await stranger.query(api.resources.search.searchBlockVolumes, { text: word }));
    answers.push(await stranger.query(api.resources.search.searchBlockVolumes, { text: word, region: volume.region }));
    answers.push(
      await stranger.query(api.resources.queries.paginateBlockVolumes, {
        orgId,
        region: volume.region,
        paginationOpts: { numItems: 10, cursor: null },
      }),
    );
    const shown = JSON.stringify(answers);
    expect(shown).not.toContain(volume.providerResourceId);
    expect(shown).not.toContain(volume.name);
    // Same answer for the live dock, the removed one and an id that never was one.
    expect(answers.slice(0, 4)).toEqual(answers.slice(8, 12));
    expect(answers.slice(4, 8)).toEqual(answers.slice(8, 12));
    expect(await stranger.query(api.docks.queries.getDock, { dockId })).toBeNull();
    expect(await stranger.query(api.docks.queries.getDock, { dockId: gone })).toBeNull();
    const codeOf = (p: Promise<unknown>) => p.then(() => "ok", (e: { data?: { code?: string } }) => e.data?.code);
    expect(await codeOf(stranger.mutation(api.docks.mutations.syncDock, { dockId }))).toBe("NOT_FOUND");
    expect(await codeOf(stranger.mutation(api.docks.mutations.syncDock, { dockId: gone }))).toBe("NOT_FOUND");
    expect(await codeOf(stranger.mutation(api.docks.mutations.setDockSyncInterval, { dockId, syncIntervalMs: 1 }))).toBe(
      "NOT_FOUND",
    );
  });
});
