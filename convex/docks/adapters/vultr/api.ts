// Vultr API v2 endpoints this module reads; paging, retries and errors are the
// shared client's (cursor paging, per_page 500).
import { ProviderError, type ProviderClient } from "../../http";
import type { VultrBlock, VultrInstance } from "./types";

export class VultrAPI {
  constructor(private readonly client: ProviderClient) {}

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
