// The one command grammar shared by Slack (`/backup-setup …`) and DingTalk (`@bot backup-setup …`).

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

export const HELP_TEXT = [
  '*backup-setup* turns on the ACK backup center (migrate-controller and its permissions) for a cluster.',
  '',
  '`/backup-setup <cluster-id>` start a setup for one cluster (several ids: one session each)',
  '`/backup-setup --region <region> --all` start a setup for every cluster of a region',
  '`/backup-setup status [cluster-id]` show the running setup of a cluster (or all of this channel)',
  '`/backup-setup cancel [cluster-id]` cancel the running setup (of this thread when no id is given)',
  '`/backup-setup verify <cluster-id>` read-only check of every backup-center requirement, with fixes',
  '`/backup-setup verify <cluster-id> --test-backup` the same, then a test backup (after an approval; it removes itself)',
  '`/backup-setup audit <cluster-id>` the last audit entries of a cluster',
  '`/backup-setup watch` what this channel watches: last check, result, next check (drift is posted here with a Fix button)',
  '`/backup-setup watch on|off <cluster-id>` start or stop watching a cluster from this channel (only approvers turn a watch off)',
  '`/backup-setup help` this text',
  '',
  'In DingTalk, send the same words to the robot: `@bot backup-setup c-xxx`.',
  'Every privileged step waits for an approver to click Approve.',
].join('\n');

export const CLUSTER_ID = /^c[a-z0-9-]{0,62}[a-z0-9]$/;
export const REGION_ID = /^[a-z]{2,3}-[a-z0-9]+(?:-[a-z0-9]+)*$/;
const MAX_CLUSTERS = 50;
/** 50 cluster ids of 33 characters and their spaces fit; anything longer is refused unread. */
const MAX_COMMAND_LENGTH = 4_000;
/** Words echoed in an error are cut to this length. */
const ECHO = 60;

export function clusterIdProblem(value: string): string | null {
  // An ACK cluster id has digits or hyphens (c82e6987e2961451182edacd74faf2e30, c-sandbox-managed): a
  // plain word such as "check" is not taken for one, and neither is a region id such as cn-shanghai.
  if (CLUSTER_ID.test(value) && /[0-9-]/.test(value) && !REGION_ID.test(value)) return null;
  if (REGION_ID.test(value)) {
    return `\`${value}\` is a region, not a cluster id. To set up every cluster of it: \`/backup-setup --region ${value} --all\`.`;
  }
  return (
    `\`${echo(value)}\` is not a cluster id: ACK cluster ids start with "c" followed by lowercase letters, ` +
    'digits and hyphens (for example c82e6987e2961451182edacd74faf2e30). ' +
    'Copy it from the Clusters page of the ACK console.'
  );
}

/** A word of the person's input as an error message repeats it: cut short, without backticks. */
function echo(word: string): string {
  const clean = word.replace(/`/g, "'");
  return clean.length <= ECHO ? clean : `${clean.slice(0, ECHO - 1)}…`;
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
  const [clusterId] = rest;
  if (clusterId === undefined) return success({ verb });
  const problem = clusterIdProblem(clusterId);
  return problem ? failure(problem) : success({ verb, clusterId });
}

function requiredCluster(verb: 'verify' | 'audit', rest: string[]): ParseResult {
  const [clusterId, ...extra] = rest;
  if (clusterId === undefined) return failure(`\`${verb}\` needs a cluster id: \`/backup-setup ${verb} <cluster-id>\`.`);
  if (extra.length > 0) return unexpected(extra, verb);
  const problem = clusterIdProblem(clusterId);
  return problem ? failure(problem) : success({ verb, clusterId });
}

function verify(rest: string[]): ParseResult {
  const flag = rest.indexOf('--test-backup');
  const parsed = requiredCluster('verify', flag >= 0 ? rest.filter((_, i) => i !== flag) : rest);
  if (!parsed.ok || flag < 0 || parsed.command.verb !== 'verify') return parsed;
  return success({ ...parsed.command, testBackup: true });
}

function watch(rest: string[]): ParseResult {
  const [action, clusterId, ...extra] = rest;
  if (action === undefined) return success({ verb: 'watch', action: 'list' });
  const lower = action.toLowerCase();
  if (lower !== 'on' && lower !== 'off') {
    return failure(`Unexpected \`${echo(action)}\` after \`watch\`: use \`/backup-setup watch\`, \`/backup-setup watch on <cluster-id>\` or \`/backup-setup watch off <cluster-id>\`.`);
  }
  if (clusterId === undefined) return failure(`\`watch ${lower}\` needs a cluster id: \`/backup-setup watch ${lower} <cluster-id>\`.`);
  if (extra.length > 0) return unexpected(extra, `watch ${lower} ${clusterId}`);
  const problem = clusterIdProblem(clusterId);
  return problem ? failure(problem) : success({ verb: 'watch', action: lower, clusterId });
}

function regionFleet(rest: string[]): ParseResult {
  const [region, all, ...extra] = rest;
  if (region === undefined || !REGION_ID.test(region)) {
    return failure(
      `\`--region\` needs a region id such as cn-hangzhou${region === undefined ? '' : `, not \`${echo(region)}\``}: ` +
        '`/backup-setup --region <region> --all`.',
    );
  }
  if (all !== '--all') {
    return failure('Add `--all` to set up every cluster of the region: `/backup-setup --region ' + region + ' --all`.');
  }
  if (extra.length > 0) return unexpected(extra, '--region');
  return success({ verb: 'setup-region', region });
}

function clusters(words: string[]): ParseResult {
  for (const word of words) {
    if (!word.startsWith('c')) {
      return failure(
        `Unknown word \`${echo(word)}\`. Use \`/backup-setup <cluster-id>\`, or one of: status, cancel, verify, audit, watch, help.`,
      );
    }
    const problem = clusterIdProblem(word);
    if (problem) return failure(problem);
  }
  const clusterIds = [...new Set(words)];
  if (clusterIds.length > MAX_CLUSTERS) {
    return failure(`At most ${MAX_CLUSTERS} clusters per command (got ${clusterIds.length}); split the list.`);
  }
  return success({ verb: 'setup', clusterIds });
}

function unexpected(extra: string[], verb: string): ParseResult {
  return failure(`Unexpected \`${echo(extra.join(' '))}\` after \`${verb}\`. See \`/backup-setup help\`.`);
}

const success = (command: Command): ParseResult => ({ ok: true, command });
const failure = (error: string): ParseResult => ({ ok: false, error });
