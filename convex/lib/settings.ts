// Every deployment setting the module reads, through the `env` a push types
// from convex/convex.config.ts: a name read here that the config does not
// declare fails the push's typecheck (`npm run check:deploy` shows it offline).
import { env } from "../_generated/server";
import type { Provider } from "../validators";

/** 64 hex characters; lib/encryption.ts checks the shape. */
export function encryptionMasterKey(): string | undefined {
  return env.ENCRYPTION_MASTER_KEY;
}

/** Settings that point a provider at another base URL (an emulator, a proxy). */
export const PROVIDER_API_URL_ENV = {
  vultr: "VULTR_API_URL",
  digitalocean: "DIGITALOCEAN_API_URL",
  linode: "LINODE_API_URL",
} as const satisfies Record<Provider, string>;

export function providerApiUrl(provider: Provider): string | undefined {
  return env[PROVIDER_API_URL_ENV[provider]];
}

/**
 * Where Vultr S3 ListBuckets requests go instead of https://<s3_hostname>/:
 * `<this>/<s3_hostname>/` (the emulator). Unset in production. The hostname
 * is checked against Vultr's S3 domain either way (adapters/vultr/s3.ts).
 */
export function s3ListBucketsUrl(): string | undefined {
  return env.VULTR_S3_URL;
}

/**
 * Where DigitalOcean Spaces ListBuckets requests go instead of
 * https://<region>.digitaloceanspaces.com/: `<this>/<that host>/` (the
 * emulator). Unset in production. Only Spaces region hosts are ever asked
 * (adapters/digitalocean/spaces.ts).
 */
export function spacesListBucketsUrl(): string | undefined {
  return env.DIGITALOCEAN_SPACES_URL;
}

type NumberSetting =
  | "SYNC_REQUEST_TIMEOUT_MS"
  | "SYNC_MAX_ATTEMPTS"
  | "SYNC_RETRY_BASE_DELAY_MS"
  | "SYNC_RETRY_MAX_DELAY_MS"
  | "SYNC_PAGE_CONCURRENCY"
  | "SYNC_BUTTON_COOLDOWN_MS";

/** The setting as a positive number; unset or anything else keeps the fallback. */
export function numberFromEnv(name: NumberSetting, fallback: number): number {
  const value = Number(env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}
