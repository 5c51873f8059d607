// Vultr API v2 endpoints this module reads; paging, retries and errors are the
// shared client's (cursor paging, per_page 500).
import { IncompleteListingError, ProviderError, type ProviderClient } from "../../http";
import type { VultrBlock, VultrBucket, VultrInstance, VultrObjectStorage } from "./types";

export class VultrAPI {
  constructor(readonly client: ProviderClient) {}

  async listInstances(): Promise<VultrInstance[]> {
    return await this.client.listAll<VultrInstance>("/v2/instances", "instances");
  }

  async listBlocks(): Promise<VultrBlock[]> {
    return await this.client.listAll<VultrBlock>("/v2/blocks", "blocks");
  }

  /** The instances a page at a time; returns normally only when the listing was complete. */
  instancePages(): AsyncGenerator<VultrInstance[], void, undefined> {
    return this.client.pages<VultrInstance>("/v2/instances", "instances");
  }

  /** The block volumes a page at a time; returns normally only when the listing was complete. */
  blockPages(): AsyncGenerator<VultrBlock[], void, undefined> {
    return this.client.pages<VultrBlock>("/v2/blocks", "blocks");
  }

  /** The Object Storage subscriptions a page at a time (keys included: the caller drops them). */
  objectStoragePages(): AsyncGenerator<VultrObjectStorage[], void, undefined> {
    return this.client.pages<VultrObjectStorage>("/v2/object-storage", "object_storages");
  }

  /** One subscription (keys included: the caller drops them); null when it no longer exists. */
  async getObjectStorage(id: string): Promise<VultrObjectStorage | null> {
    return await this.client.getItem<VultrObjectStorage>(
      `/v2/object-storage/${encodeURIComponent(id)}`,
      "object_storage",
    );
  }

  /**
   * A subscription's buckets by Vultr's own endpoint; null when it answers
   * 404 (the endpoint is recent and not served everywhere: the caller falls
   * back to S3). An answer that says more pages follow is not a whole list.
   */
  async listObjectStorageBuckets(id: string): Promise<VultrBucket[] | null> {
    const endpoint = `/v2/object-storage/${encodeURIComponent(id)}/bucket`;
    let body: Record<string, unknown>;
    try {
      body = await this.client.getJson(endpoint);
    } catch (e) {
      if (e instanceof ProviderError && e.status === 404) return null;
      throw e;
    }
    if (!Array.isArray(body.buckets)) {
      throw new ProviderError("vultr", endpoint, 200, 'the answer has no "buckets" list', false);
    }
    const meta = body.meta as { links?: { next?: unknown } } | undefined;
    const next = meta?.links?.next;
    if (typeof next === "string" && next !== "") {
      throw new IncompleteListingError("vultr", endpoint, "the bucket list says more pages follow");
    }
    return body.buckets as VultrBucket[];
  }

  /** One instance; null when it no longer exists. */
  async getInstance(id: string): Promise<VultrInstance | null> {
    return await this.client.getItem<VultrInstance>(`/v2/instances/${encodeURIComponent(id)}`, "instance");
  }

  /** One block volume; null when it no longer exists. */
  async getBlock(id: string): Promise<VultrBlock | null> {
    return await this.client.getItem<VultrBlock>(`/v2/blocks/${encodeURIComponent(id)}`, "block");
  }

  /**
   * The cheapest authenticated call: proves the token works and names its
   * account. Vultr's account answer has no id, so the account's email is the
   * identity (lower-cased: the same mailbox in another case is the same
   * account).
   */
  async getAccountId(): Promise<string> {
    const body = await this.client.getJson("/v2/account");
    const account = body.account as { email?: unknown } | null | undefined;
    const email = typeof account?.email === "string" ? account.email.trim().toLowerCase() : "";
    if (email === "") {
      throw new ProviderError("vultr", "/v2/account", 200, "the answer names no account (no account.email)", false);
    }
    return `email:${email}`;
  }
}
