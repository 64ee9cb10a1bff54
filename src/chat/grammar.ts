// The one command grammar shared by Slack (`/backup-setup …`) and DingTalk (`@bot backup-setup …`).
import { code } from '../../flows/domain/inline.js';
import { closest } from '../../flows/domain/closest.ts';
import { OSS_REGIONS } from '../../flows/domain/oss.ts';

export type Command =
  | { verb: 'setup'; clusterIds: string[] }
  | { verb: 'setup-region'; region: string }
  | { verb: 'status'; clusterId?: string }
  | { verb: 'cancel'; clusterId?: string }
  | { verb: 'verify'; clusterId: string; testBackup?: true }
  | { verb: 'audit'; clusterId: string }
  | { verb: 'watch'; action: 'list' }
  | { verb: 'watch'; action: 'on' | 'off'; clusterId: string }
  | { verb: 'help' };

export type ParseResult = { ok: true; command: Command } | { ok: false; error: string };

export const COMMAND_NAME = 'backup-setup';

/**
 * Every command in code is one the grammar takes as written, once <cluster-id> and <region> are filled in
 * (test/chat/help.test.ts runs each on every platform); a part in [brackets] may be left out.
 */
export const HELP_TEXT = [
  '`backup-setup` turns on the ACK backup center (migrate-controller and its permissions) for a cluster.',
  'Put your cluster\'s id for <cluster-id>: it is on the Clusters page of the ACK console (c82e6987e2961451182edacd74faf2e30, for example).',
  '',
  '`/backup-setup <cluster-id>` start a setup for one cluster (several ids: one session each)',
  '`/backup-setup --region <region> --all` start a setup for every cluster of a region, such as `/backup-setup --region cn-hangzhou --all`',
  '`/backup-setup status [<cluster-id>]` show the running setup of a cluster (or all of this channel)',
  '`/backup-setup cancel [<cluster-id>]` cancel the running setup (of this thread when no id is given)',
  '`/backup-setup verify <cluster-id>` read-only check of every backup-center requirement, with fixes',
  '`/backup-setup verify <cluster-id> --test-backup` the same, then a test backup (after an approval; it removes itself)',
  '`/backup-setup audit <cluster-id>` the last audit entries of a cluster',
  '`/backup-setup watch` what this channel watches: last check, result, next check (drift is posted here with a Fix button)',
  '`/backup-setup watch on <cluster-id>` start watching a cluster from this channel',
  '`/backup-setup watch off <cluster-id>` stop watching it (only approvers turn a watch off)',
  '`/backup-setup help` this text',
  '',
  'In DingTalk, send the same words to the robot in the group: `@bot backup-setup status`.',
  'Every privileged step waits for an approver to click Approve.',
].join('\n');

/** The words a command may begin with (did-you-mean for a typo of one). */
const VERBS = ['status', 'cancel', 'verify', 'audit', 'watch', 'help', '--region'] as const;

export const CLUSTER_ID = /^c[a-z0-9-]{0,62}[a-z0-9]$/;
export const REGION_ID = /^[a-z]{2,3}-[a-z0-9]+(?:-[a-z0-9]+)*$/;
const MAX_CLUSTERS = 50;
/** 50 cluster ids of 33 characters and their spaces fit; anything longer is refused unread. */
const MAX_COMMAND_LENGTH = 4_000;
/** Words echoed in an error are cut to this length. */
const ECHO = 60;

/**
 * A typed cluster id in the form CS knows. ACK cluster ids are lowercase ("c" and 32 hexadecimal digits in the
 * console and every API example, https://www.alibabacloud.com/help/en/ack/ack-managed-and-ack-dedicated/developer-reference/api-cs-2015-12-15-describeclusterdetail).
 * Whether CS also matches an upper-case id is not documented, so the stricter reading is taken: the id is lowercased
 * before any call, and `C82E…` or `C-Sandbox-Managed` reach the same cluster as their lowercase form.
 */
export function normalClusterId(value: string): string {
  return value.toLowerCase();
}

/** Why `value` (normalised; `typed` as the person wrote it) is not a cluster id; null when it is one. */
export function clusterIdProblem(value: string, typed = value): string | null {
  // An ACK cluster id has digits or hyphens (c82e6987e2961451182edacd74faf2e30, c-sandbox-managed): a
  // plain word such as "check" is not taken for one, and neither is a region id such as cn-shanghai.
  if (CLUSTER_ID.test(value) && /[0-9-]/.test(value) && !REGION_ID.test(value)) return null;
  if (REGION_ID.test(value)) {
    return `${code(typed)} is a region, not a cluster id. To set up every cluster of it: \`/backup-setup --region ${value} --all\`.`;
  }
  const verb = closest(value, VERBS);
  return (
    `${code(echo(typed))} is not a cluster id: ACK cluster ids start with "c" followed by letters, ` +
    'digits and hyphens (for example c82e6987e2961451182edacd74faf2e30). ' +
    (verb ? `Did you mean ${code(`/backup-setup ${verb}`)}?` : 'Copy it from the Clusters page of the ACK console.')
  );
}

/** A word of the person's input as an error message repeats it (as code, so every character shows): cut short. */
function echo(word: string): string {
  return word.length <= ECHO ? word : `${word.slice(0, ECHO - 1)}…`;
}

/** Parses the words after the command name. Leading "/backup-setup" or "backup-setup" is tolerated. */
export function parseCommand(text: string): ParseResult {
  if (text.length > MAX_COMMAND_LENGTH) {
    return failure(`That command is ${text.length} characters long; a command has at most ${MAX_COMMAND_LENGTH}. Nothing was started.`);
  }
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (words[0] === `/${COMMAND_NAME}` || words[0] === COMMAND_NAME) words.shift();
  const [first, ...rest] = words;
  if (first === undefined) return failure('Which cluster? Give its id: `/backup-setup <cluster-id>`.');

  switch (first.toLowerCase()) {
    case 'help':
      return rest.length === 0 ? success({ verb: 'help' }) : unexpected(rest, 'help');
    case 'status':
    case 'cancel':
      return optionalCluster(first.toLowerCase() as 'status' | 'cancel', rest);
    case 'verify':
      return verify(rest);
    case 'audit':
      return requiredCluster('audit', rest);
    case 'watch':
      return watch(rest);
    case '--region':
      return regionFleet(rest);
    default:
      return clusters(words);
  }
}

function optionalCluster(verb: 'status' | 'cancel', rest: string[]): ParseResult {
  if (rest.length > 1) return unexpected(rest.slice(1), verb);
  const [typed] = rest;
  if (typed === undefined) return success({ verb });
  const clusterId = normalClusterId(typed);
  const problem = clusterIdProblem(clusterId, typed);
  return problem ? failure(problem) : success({ verb, clusterId });
}

function requiredCluster(verb: 'verify' | 'audit', rest: string[]): ParseResult {
  const [typed, ...extra] = rest;
  if (typed === undefined) return failure(`${code(verb)} needs a cluster id: \`/backup-setup ${verb} <cluster-id>\`.`);
  if (extra.length > 0) return unexpected(extra, verb);
  const clusterId = normalClusterId(typed);
  const problem = clusterIdProblem(clusterId, typed);
  return problem ? failure(problem) : success({ verb, clusterId });
}

function verify(rest: string[]): ParseResult {
  const flag = rest.indexOf('--test-backup');
  const parsed = requiredCluster('verify', flag >= 0 ? rest.filter((_, i) => i !== flag) : rest);
  if (!parsed.ok || flag < 0 || parsed.command.verb !== 'verify') return parsed;
  return success({ ...parsed.command, testBackup: true });
}

function watch(rest: string[]): ParseResult {
  const [action, typed, ...extra] = rest;
  if (action === undefined) return success({ verb: 'watch', action: 'list' });
  const lower = action.toLowerCase();
  if (lower !== 'on' && lower !== 'off') {
    return failure(`Unexpected ${code(echo(action))} after \`watch\`: use \`/backup-setup watch\`, \`/backup-setup watch on <cluster-id>\` or \`/backup-setup watch off <cluster-id>\`.`);
  }
  if (typed === undefined) return failure(`\`watch ${lower}\` needs a cluster id: \`/backup-setup watch ${lower} <cluster-id>\`.`);
  const clusterId = normalClusterId(typed);
  if (extra.length > 0) return unexpected(extra, `watch ${lower} ${clusterId}`);
  const problem = clusterIdProblem(clusterId, typed);
  return problem ? failure(problem) : success({ verb: 'watch', action: lower, clusterId });
}

function regionFleet(rest: string[]): ParseResult {
  const [region, all, ...extra] = rest;
  if (region === undefined || !REGION_ID.test(region)) {
    return failure(
      `\`--region\` needs a region id such as cn-hangzhou${region === undefined ? '' : `, not ${code(echo(region))}`}: ` +
        '`/backup-setup --region <region> --all`.',
    );
  }
  // ACK's regions are OSS's (the bucket list, oss.ts): a typo of one gets did-you-mean; any other region id is
  // passed on, and CS answers for it.
  const near = OSS_REGIONS.includes(region) ? null : closest(region, OSS_REGIONS);
  if (near) return failure(`${code(echo(region))} is not an Alibaba Cloud region. Did you mean ${code(`/backup-setup --region ${near} --all`)}?`);
  if (all !== '--all') {
    return failure('Add `--all` to set up every cluster of the region: `/backup-setup --region ' + region + ' --all`.');
  }
  if (extra.length > 0) return unexpected(extra, '--region');
  return success({ verb: 'setup-region', region });
}

function clusters(words: string[]): ParseResult {
  const clusterIds: string[] = [];
  for (const word of words) {
    const clusterId = normalClusterId(word);
    if (!clusterId.startsWith('c')) {
      const verb = closest(word, VERBS);
      return failure(
        `Unknown word ${code(echo(word))}. ` +
          (verb ? `Did you mean ${code(`/backup-setup ${verb}`)}? ` : '') +
          'Use `/backup-setup <cluster-id>`, or one of: status, cancel, verify, audit, watch, help.',
      );
    }
    const problem = clusterIdProblem(clusterId, word);
    if (problem) return failure(problem);
    if (!clusterIds.includes(clusterId)) clusterIds.push(clusterId);
  }
  if (clusterIds.length > MAX_CLUSTERS) {
    return failure(`At most ${MAX_CLUSTERS} clusters per command (got ${clusterIds.length}); split the list.`);
  }
  return success({ verb: 'setup', clusterIds });
}

function unexpected(extra: string[], verb: string): ParseResult {
  return failure(`Unexpected ${code(echo(extra.join(' ')))} after ${code(verb)}. See \`/backup-setup help\`.`);
}

const success = (command: Command): ParseResult => ({ ok: true, command });
const failure = (error: string): ParseResult => ({ ok: false, error });
