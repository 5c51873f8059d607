// What `npm start` (docks/start.ts) needs to give its DigitalOcean dock a Spaces
// key pair: from the environment for a real account (the names DigitalOcean's
// tools use), or the emulated account's, with Spaces pointed at the emulator.
import type { Provider } from "../convex/validators";
import type { Emulator } from "./emulator/server";

export const SPACES_KEY_ENV = { accessKeyId: "SPACES_ACCESS_KEY_ID", secretAccessKey: "SPACES_SECRET_ACCESS_KEY" } as const;

/** The setting that sends Spaces ListBuckets to the emulator (convex/lib/settings.ts). */
export const SPACES_URL_ENV = "DIGITALOCEAN_SPACES_URL";

type SpacesArgs = { spacesAccessKeyId?: string; spacesSecretAccessKey?: string };

/**
 * createDock's Spaces arguments for a dock of `provider`: none but for
 * DigitalOcean; there the emulated account's pair, or with real accounts both
 * SPACES_* variables (one alone is ignored, as createDock would refuse it).
 */
export function spacesDockArgs(
  provider: Provider,
  emulator: Emulator | undefined,
  env: Record<string, string | undefined> = process.env,
): SpacesArgs {
  if (provider !== "digitalocean") return {};
  if (emulator !== undefined) {
    const key = emulator.accounts.digitalocean.spacesKey;
    return key === undefined ? {} : { spacesAccessKeyId: key.accessKeyId, spacesSecretAccessKey: key.secretAccessKey };
  }
  const accessKeyId = env[SPACES_KEY_ENV.accessKeyId]?.trim();
  const secretAccessKey = env[SPACES_KEY_ENV.secretAccessKey]?.trim();
  if (!accessKeyId || !secretAccessKey) return {};
  return { spacesAccessKeyId: accessKeyId, spacesSecretAccessKey: secretAccessKey };
}
