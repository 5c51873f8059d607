// Linode API v4 shapes this module reads (GET /v4/linode/instances,
// GET /v4/object-storage/buckets, GET /v4/volumes, GET /v4/volumes/types).

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

export interface LinodeVolume {
  id: number;
  label: string;
  status: string;
  // GB.
  size: number;
  region: string;
  // null when detached.
  linode_id: number | null;
  linode_label: string | null;
  filesystem_path: string;
  // "nvme" or "hdd".
  hardware_type: string;
  // "enabled" or "disabled".
  encryption?: string;
  tags: string[];
  created: string;
  updated: string;
  [field: string]: unknown;
}

export interface LinodePrice {
  hourly: number | null;
  monthly: number | null;
}

/** A Block Storage price, per GB; region_prices override price in their regions. */
export interface LinodeVolumeType {
  id: string;
  label: string;
  price: LinodePrice;
  region_prices: (LinodePrice & { id: string })[];
  transfer: number;
}
