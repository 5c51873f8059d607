// Encrypts provider API tokens at rest: AES-256-GCM through WebCrypto, with the
// key from ENCRYPTION_MASTER_KEY. Only actions decrypt; nothing here logs.
import { fail } from "./errors";
import { encryptionMasterKey } from "./settings";

// Stored layout: [version byte][12-byte IV][ciphertext + 16-byte GCM tag].
// The version byte leaves room to rotate the master key later. `boundTo`
// is GCM additional data: a ciphertext copied into another organization's
// dock does not decrypt there.
const FORMAT_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

async function masterKey(): Promise<CryptoKey> {
  const hex = encryptionMasterKey();
  if (hex === undefined || hex === "") {
    fail(
      "CONFIGURATION",
      "ENCRYPTION_MASTER_KEY is not set: set it to 64 hex characters (32 random bytes).",
    );
  }
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    fail(
      "CONFIGURATION",
      "ENCRYPTION_MASTER_KEY must be exactly 64 hex characters (32 bytes).",
    );
  }
  const raw = new Uint8Array(32);
  for (let i = 0; i < 32; i++) raw[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}

export async function encryptApiKey(plaintext: string, boundTo = ""): Promise<ArrayBuffer> {
  if (plaintext.length === 0) fail("INVALID_ARGUMENT", "The API key is empty.");
  const key = await masterKey();
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(boundTo) },
      key,
      new TextEncoder().encode(plaintext),
    ),
  );
  const out = new Uint8Array(1 + IV_BYTES + sealed.length);
  out[0] = FORMAT_VERSION;
  out.set(iv, 1);
  out.set(sealed, 1 + IV_BYTES);
  return out.buffer;
}

export async function decryptApiKey(bytes: ArrayBuffer, boundTo = ""): Promise<string> {
  const data = new Uint8Array(bytes);
  if (data.length < 1 + IV_BYTES + TAG_BYTES || data[0] !== FORMAT_VERSION) {
    fail("CONFIGURATION", "The stored API key is not in a format this deployment can read.");
  }
  const key = await masterKey();
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: data.slice(1, 1 + IV_BYTES), additionalData: new TextEncoder().encode(boundTo) },
      key,
      data.slice(1 + IV_BYTES),
    );
    return new TextDecoder().decode(plain);
  } catch {
    // GCM authentication failed: a different master key, tampered bytes, or
    // a ciphertext moved from another organization.
    return fail(
      "CONFIGURATION",
      "The stored API key cannot be decrypted with ENCRYPTION_MASTER_KEY (wrong key, the key was changed, or the stored key does not belong to this dock's organization).",
    );
  }
}

/** What a dock's key ciphertext is bound to: its organization. */
export function dockKeyBinding(orgId: string): string {
  return `org:${orgId}`;
}

/**
 * What a dock's Spaces key ciphertext is bound to: its organization and this
 * use, so it cannot stand in for the API token's ciphertext or the reverse.
 */
export function spacesKeyBinding(orgId: string): string {
  return `org:${orgId}:spaces`;
}
