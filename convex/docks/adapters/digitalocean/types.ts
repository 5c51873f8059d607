// DigitalOcean API v2 shapes this module reads (GET /v2/droplets, GET /v2/volumes).

export interface DigitalOceanRegion {
  name: string;
  slug: string;
  available: boolean;
  features: string[];
  sizes: string[];
}

export interface DigitalOceanVolume {
  id: string;
  name: string;
  created_at: string;
  description: string;
  droplet_ids: number[];
  region: DigitalOceanRegion;
  size_gigabytes: number;
  filesystem_type: string;
  filesystem_label: string;
  tags: string[] | null;
}

export interface DigitalOceanDroplet {
  id: number;
  name: string;
  status: string;
  region: DigitalOceanRegion;
  networks: { v4: { ip_address: string; type: string }[]; v6: unknown[] };
  volume_ids: string[];
  [field: string]: unknown;
}
