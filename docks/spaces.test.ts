// The Spaces arguments `npm start` passes to createDock.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { defaultAccounts } from "./emulator/accounts";
import { startEmulator, type Emulator } from "./emulator/server";
import { spacesDockArgs } from "./spaces";

let emulator: Emulator;
beforeEach(async () => {
  emulator = await startEmulator({ accounts: defaultAccounts() });
});
afterEach(() => emulator.close());

describe("the Spaces key npm start gives its DigitalOcean dock", () => {
  test("is the emulated account's pair against the emulator, and nothing for other providers", () => {
    const key = emulator.accounts.digitalocean.spacesKey!;
    expect(spacesDockArgs("digitalocean", emulator)).toEqual({ spacesAccessKeyId: key.accessKeyId, spacesSecretAccessKey: key.secretAccessKey });
    expect(spacesDockArgs("vultr", emulator)).toEqual({});
  });

  test("with real accounts, comes from SPACES_ACCESS_KEY_ID and SPACES_SECRET_ACCESS_KEY, both or none", () => {
    const env = { SPACES_ACCESS_KEY_ID: " DO00ABCDEFGHIJKLMNOP ", SPACES_SECRET_ACCESS_KEY: "s".repeat(43) };
    expect(spacesDockArgs("digitalocean", undefined, env)).toEqual({ spacesAccessKeyId: "DO00ABCDEFGHIJKLMNOP", spacesSecretAccessKey: "s".repeat(43) });
    expect(spacesDockArgs("digitalocean", undefined, { SPACES_ACCESS_KEY_ID: "DO00ABCDEFGHIJKLMNOP" })).toEqual({});
    expect(spacesDockArgs("linode", undefined, env)).toEqual({});
  });
});
