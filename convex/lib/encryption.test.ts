import { afterEach, describe, expect, test } from "vitest";
import { decryptApiKey, encryptApiKey } from "./encryption";

const KEY_A = "0f".repeat(32);
const KEY_B = "e3".repeat(32);
const original = process.env.ENCRYPTION_MASTER_KEY;

afterEach(() => {
  process.env.ENCRYPTION_MASTER_KEY = original;
});

function codeOf(e: unknown): string | undefined {
  return (e as { data?: { code?: string } }).data?.code;
}

describe("API key encryption", () => {
  test("a key decrypts to what was encrypted, and the stored bytes do not contain it", async () => {
    process.env.ENCRYPTION_MASTER_KEY = KEY_A;
    const token = "dop_v1_0123456789abcdef0123456789abcdef";
    const sealed = await encryptApiKey(token);
    expect(new TextDecoder("latin1").decode(sealed)).not.toContain(token);
    expect(await decryptApiKey(sealed)).toBe(token);
  });

  test("the same key encrypts differently each time (fresh IV)", async () => {
    process.env.ENCRYPTION_MASTER_KEY = KEY_A;
    const a = new Uint8Array(await encryptApiKey("same-token"));
    const b = new Uint8Array(await encryptApiKey("same-token"));
    expect(a).not.toEqual(b);
  });

  test("a different master key cannot decrypt, with a clear CONFIGURATION error", async () => {
    process.env.ENCRYPTION_MASTER_KEY = KEY_A;
    const sealed = await encryptApiKey("secret-token");
    process.env.ENCRYPTION_MASTER_KEY = KEY_B;
    const error = await decryptApiKey(sealed).catch((e: unknown) => e);
    expect(codeOf(error)).toBe("CONFIGURATION");
    expect(String((error as Error).message)).not.toContain("secret-token");
  });

  test("tampered bytes are rejected, not decrypted to garbage", async () => {
    process.env.ENCRYPTION_MASTER_KEY = KEY_A;
    const sealed = new Uint8Array(await encryptApiKey("secret-token"));
    sealed[sealed.length - 1] ^= 1;
    await expect(decryptApiKey(sealed.buffer)).rejects.toThrow(/cannot be decrypted/);
  });

  test.each([
    ["missing", undefined],
    ["empty", ""],
    ["too short", "abcd"],
    ["not hex", "zz".repeat(32)],
  ])("a %s ENCRYPTION_MASTER_KEY fails with CONFIGURATION", async (_label, value) => {
    if (value === undefined) delete process.env.ENCRYPTION_MASTER_KEY;
    else process.env.ENCRYPTION_MASTER_KEY = value;
    const error = await encryptApiKey("token").catch((e: unknown) => e);
    expect(codeOf(error)).toBe("CONFIGURATION");
    expect((error as Error).message).toMatch(/ENCRYPTION_MASTER_KEY/);
  });
});
