// Vultr API v2 endpoints this module lists; paging, retries and errors are the
// shared client's (cursor paging, per_page 500).
import type { ProviderClient } from "../../http";
import type { VultrBlock, VultrInstance } from "./types";

export class VultrAPI {
  constructor(private readonly client: ProviderClient) {}

  async listInstances(): Promise<VultrInstance[]> {
    return await this.client.listAll<VultrInstance>("/v2/instances", "instances");
  }

  async listBlocks(): Promise<VultrBlock[]> {
    return await this.client.listAll<VultrBlock>("/v2/blocks", "blocks");
  }

  /** The cheapest authenticated call: proves the token works. */
  async getAccount(): Promise<Record<string, unknown>> {
    return await this.client.getJson("/v2/account");
  }
}
