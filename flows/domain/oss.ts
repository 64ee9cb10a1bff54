// OSS naming rules and regions: answers people type are checked here before anything is planned.
import type { Bucket } from '../contract.ts';
import { code } from './inline.js';
import { editDistance } from './closest.ts';

/** Why a bucket name breaks OSS's naming rules and what to type instead; null when it is valid. */
export function bucketNameProblem(name: string): string | null {
  const rules = 'OSS bucket names are 3–63 characters of lowercase letters, digits and hyphens (-), starting and ending with a letter or digit';
  if (name.trim() === '') return `The bucket name is empty. ${rules}; type one, e.g. \`cnfs-oss-backup\`.`;
  const invalid = [...new Set(name.replace(/[a-z0-9-]/g, ''))];
  if (invalid.length > 0) {
    const shown = invalid.map((c) => (c === ' ' ? 'a space' : `${code(c)}`)).join(', ');
    return `${code(name)} contains ${shown}, which bucket names may not contain. ${rules}.${suggestion(name)}`;
  }
  if (name.length < 3 || name.length > 63) {
    return `${code(name)} is ${name.length} characters long. ${rules}.${name.length > 63 ? suggestion(name) : ''}`;
  }
  if (name.startsWith('-') || name.endsWith('-')) {
    return `${code(name)} ${name.startsWith('-') ? 'starts' : 'ends'} with a hyphen. ${rules}.${suggestion(name)}`;
  }
  return null;
}

function suggestion(name: string): string {
  const fixed = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
  return fixed.length >= 3 && fixed !== name ? ` Try ${code(fixed)}.` : '';
}

/** "You can create up to 100 buckets in each region within an Alibaba Cloud account" (https://www.alibabacloud.com/help/en/oss/product-overview/limits). */
export const MAX_BUCKETS_PER_REGION = 100;

/** A bucket answer for `region`: a valid name that is not an existing bucket of another region, nor a new one in a full region. */
export function bucketChoiceProblem(name: string, region: string, buckets: Bucket[]): string | null {
  const nameProblem = bucketNameProblem(name);
  if (nameProblem) return nameProblem;
  const existing = buckets.find((b) => b.name === name);
  if (existing && existing.region !== region) {
    return (
      `Bucket ${code(name)} already exists in ${existing.region}, not in ${region} (the region you chose). ` +
      `Pick a bucket in ${region} or type a new name; to use ${code(name)}, cancel and start again choosing region ${existing.region}.`
    );
  }
  if (!existing && buckets.filter((b) => b.region === region).length >= MAX_BUCKETS_PER_REGION) {
    return (
      `The account already has ${MAX_BUCKETS_PER_REGION} buckets in ${region}, the most OSS allows per region, so bucket ${code(name)} cannot be created. ` +
      `Pick one of the existing buckets in ${region}, or delete a bucket you no longer use and start again.`
    );
  }
  return null;
}

/** Alibaba Cloud regions with OSS (public regions, as listed on the OSS "Regions and endpoints" page). */
export const OSS_REGIONS: readonly string[] = [
  'cn-hangzhou', 'cn-shanghai', 'cn-nanjing', 'cn-fuzhou', 'cn-wuhan-lr', 'cn-qingdao', 'cn-beijing',
  'cn-zhangjiakou', 'cn-huhehaote', 'cn-wulanchabu', 'cn-shenzhen', 'cn-heyuan', 'cn-guangzhou', 'cn-chengdu',
  'cn-hongkong', 'ap-northeast-1', 'ap-northeast-2', 'ap-southeast-1', 'ap-southeast-3', 'ap-southeast-5',
  'ap-southeast-6', 'ap-southeast-7', 'eu-central-1', 'eu-west-1', 'us-west-1', 'us-east-1', 'me-east-1',
  'me-central-1', 'cn-shanghai-finance-1', 'cn-shenzhen-finance-1', 'cn-beijing-finance-1', 'cn-north-2-gov-1',
];

/** Why `region` is not an OSS region id and what to type instead; null when it is one. */
export function regionProblem(region: string): string | null {
  if (OSS_REGIONS.includes(region)) return null;
  if (region.trim() === '') return 'The region is empty. Type a region id such as `cn-hangzhou`.';
  const closest = closestRegion(region);
  const hint = closest ? ` Did you mean ${code(closest)}?` : ' Type a region id such as `cn-hangzhou`, or pick one of the choices.';
  if (!/^[a-z]+(-[a-z0-9]+)+$/.test(region)) {
    return `${code(region)} is not a region id: region ids are lowercase words joined by hyphens, like \`cn-hangzhou\`.${hint}`;
  }
  return `${code(region)} is not an Alibaba Cloud region with OSS.${hint}`;
}

function closestRegion(typed: string): string | null {
  const wanted = typed.trim().toLowerCase().replace(/[\s_]+/g, '-');
  let best: { region: string; distance: number } | null = null;
  for (const region of OSS_REGIONS) {
    const distance = region.endsWith(`-${wanted}`) ? 0 : editDistance(wanted, region);
    if (!best || distance < best.distance) best = { region, distance };
  }
  return best && best.distance <= 2 ? best.region : null;
}

