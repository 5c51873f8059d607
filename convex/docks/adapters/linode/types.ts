// Linode API v4 shapes this module reads (GET /v4/linode/instances,
// GET /v4/object-storage/buckets).

export interface LinodeBucket {
  hostname: string;
  label: string;
  created: string;
  region: string;
  // Deprecated by Linode in favour of region; kept for display.
  cluster: string;
  size: number;
  objects: number;
  endpoint_type: string;
  s3_endpoint: string;
}

export interface LinodeInstance {
  id: number;
  label: string;
  status: string;
  region: string;
  type: string;
  ipv4: string[];
  [field: string]: unknown;
}
