// The deployment settings this module reads (convex/lib/settings.ts). A push
// types `env` in convex/_generated/server from this list and refuses to deploy
// while a required one is unset; the optional ones have defaults in code.
import { defineApp } from "convex/server";
import { v } from "convex/values";

export default defineApp({
  env: {
    // 64 hex characters (32 bytes) that encrypt the stored provider tokens.
    ENCRYPTION_MASTER_KEY: v.string(),
    // The identity provider convex/auth.config.ts trusts.
    AUTH_ISSUER_URL: v.string(),
    AUTH_APPLICATION_ID: v.string(),
    // Provider base URLs (a proxy, or the emulator); default: the real APIs.
    VULTR_API_URL: v.optional(v.string()),
    DIGITALOCEAN_API_URL: v.optional(v.string()),
    LINODE_API_URL: v.optional(v.string()),
    // Vultr S3 requests go to <this>/<s3_hostname>/ instead of
    // https://<s3_hostname>/ (the emulator); unset in production.
    VULTR_S3_URL: v.optional(v.string()),
    // DigitalOcean Spaces requests go to <this>/<region>.digitaloceanspaces.com/
    // instead of https://<region>.digitaloceanspaces.com/ (the emulator); unset in production.
    DIGITALOCEAN_SPACES_URL: v.optional(v.string()),
    // Provider request timeout, retries and paging (milliseconds, counts).
    SYNC_REQUEST_TIMEOUT_MS: v.optional(v.string()),
    SYNC_MAX_ATTEMPTS: v.optional(v.string()),
    SYNC_RETRY_BASE_DELAY_MS: v.optional(v.string()),
    SYNC_RETRY_MAX_DELAY_MS: v.optional(v.string()),
    SYNC_PAGE_CONCURRENCY: v.optional(v.string()),
    // Least time between the end of a sync and a "sync dock" press (ms).
    SYNC_BUTTON_COOLDOWN_MS: v.optional(v.string()),
  },
});
