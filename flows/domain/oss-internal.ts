// OSS internal endpoints and VIP ranges (reference §7, OSS docs of Nov 2024). A registered cluster linked to a VPC
// through CEN, Express Connect or VPN reaches OSS of its own region over these ranges once they are routed.

export interface OssInternalRange {
  endpoint: string;
  cidrs: string[];
}

const VIP_RANGES_PAGE = 'https://www.alibabacloud.com/help/en/oss/user-guide/internal-endpoints-of-oss-buckets-and-vip-ranges';

export const OSS_INTERNAL_RANGES: Record<string, OssInternalRange> = {
  'cn-hangzhou': {
    endpoint: 'oss-cn-hangzhou-internal.aliyuncs.com',
    cidrs: ['100.118.28.0/24', '100.114.102.0/24', '100.98.170.0/24', '100.118.31.0/24'],
  },
  'cn-shanghai': {
    endpoint: 'oss-cn-shanghai-internal.aliyuncs.com',
    cidrs: ['100.98.35.0/24', '100.98.110.0/24', '100.98.169.0/24', '100.118.102.0/24'],
  },
  'cn-qingdao': {
    endpoint: 'oss-cn-qingdao-internal.aliyuncs.com',
    cidrs: ['100.115.173.0/24', '100.99.113.0/24', '100.99.114.0/24', '100.99.115.0/24'],
  },
  'cn-beijing': {
    endpoint: 'oss-cn-beijing-internal.aliyuncs.com',
    cidrs: ['100.118.58.0/24', '100.118.167.0/24', '100.118.170.0/24', '100.118.171.0/24', '100.118.172.0/24', '100.118.173.0/24'],
  },
  'cn-nanjing': { endpoint: 'oss-cn-nanjing-internal.aliyuncs.com', cidrs: ['100.114.142.0/24'] },
  'cn-fuzhou': { endpoint: 'oss-cn-fuzhou-internal.aliyuncs.com', cidrs: ['100.115.21.0/24'] },
  'cn-wuhan-lr': { endpoint: 'oss-cn-wuhan-lr-internal.aliyuncs.com', cidrs: ['100.115.89.0/24'] },
};

/** The optional internal route for a registered cluster whose backups go to a bucket in `bucketRegion`. */
export function ossInternalRouteGuidance(clusterRegion: string, bucketRegion: string): string {
  const intro =
    'Optional: if this registered cluster is connected to an Alibaba Cloud VPC through CEN, Express Connect or VPN, ' +
    'the backup center reads OSS over the internal network when the cluster and the bucket are in the same region.';
  if (clusterRegion !== bucketRegion) {
    return `${intro} The bucket is in ${bucketRegion} and the cluster in ${clusterRegion}, so this does not apply: backups use the public network.`;
  }
  const range = OSS_INTERNAL_RANGES[bucketRegion];
  const route = range
    ? `route all of these OSS VIP CIDR blocks of ${bucketRegion} (${range.endpoint}) to that VPC, because OSS moves between them: ${range.cidrs.join(', ')}.`
    : `route all OSS VIP CIDR blocks of ${bucketRegion} to that VPC; find them on ${VIP_RANGES_PAGE}.`;
  return `${intro} To use it, ${route} Until then the backup vault uses the public network.`;
}
