// Linode API v4 endpoints this module lists; paging (page/page_size 500),
// retries and errors are the shared client's.
import type { ProviderClient } from "../../http";
import type { LinodeBucket, LinodeInstance } from "./types";

export class LinodeAPI {
  constructor(private readonly client: ProviderClient) {}

  async listLinodes(): Promise<LinodeInstance[]> {
    return await this.client.listAll<LinodeInstance>("/v4/linode/instances", "data");
  }

  async listBuckets(): Promise<LinodeBucket[]> {
    return await this.client.listAll<LinodeBucket>("/v4/object-storage/buckets", "data");
  }

  /** The cheapest authenticated call: proves the token works. */
  async getProfile(): Promise<Record<string, unknown>> {
    return await this.client.getJson("/v4/profile");
  }
}
