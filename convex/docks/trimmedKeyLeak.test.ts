// An item whose id echoes the dock's token is skipped before it is named
// anywhere (trimmedKeys included), so the key never reaches the dock document
// or a viewer.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Emulator } from "../../docks/emulator/server";
import { api } from "../_generated/api";
import { newTest, seedDock, seedMember, seedOrg, startTestEmulator, syncNow } from "../test.setup";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startTestEmulator();
});
afterEach(() => emulator.close());

function pieces(token: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 12 <= token.length; i++) out.push(token.slice(i, i + 12));
  return out;
}

describe("a trimmed item whose id echoes the token", () => {
  test("is skipped, so neither a viewer nor the dock document ever holds the token", async () => {
    const t = newTest();
    const orgId = await seedOrg(t);
    const { as: member } = await seedMember(t, orgId, "member");
    const { as: viewer } = await seedMember(t, orgId, "viewer");
    const account = emulator.accounts.digitalocean;
    const token = account.token;
    const [a, ...rest] = account.volumes;
    emulator.setAccount("digitalocean", {
      ...account,
      // Large enough that the stored copy is trimmed, so the item is named.
      volumes: [{ ...a, id: `vol-${token}`, debug: "x".repeat(200_000) }, ...rest],
    });
    const dockId = await seedDock(t, orgId, "digitalocean", token);
    await syncNow(t, member, dockId);

    const shown = JSON.stringify(await viewer.query(api.docks.queries.listDocks, { orgId }));
    const stored = JSON.stringify(await t.run((ctx) => ctx.db.get("docks", dockId)));
    expect({
      toViewer: pieces(token).filter((p) => shown.includes(p)).length,
      inDockDocument: pieces(token).filter((p) => stored.includes(p)).length,
    }).toEqual({ toViewer: 0, inDockDocument: 0 });
  });
});
