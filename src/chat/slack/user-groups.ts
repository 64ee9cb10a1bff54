// Slack user groups as approvers: APPROVERS may name a group (`slack:S0123ABC`, its id from
// usergroups.list) and every member of that group may approve. The members of each named group come
// from usergroups.users.list (https://api.slack.com/methods/usergroups.users.list, scope
// usergroups:read) and are kept for a short while, so a click costs no Web API call and a person
// removed from the group loses the right within that time.
import type { webApi } from '@slack/bolt';
import type { UserId } from '../../../flows/contract.ts';
import type { Logger } from '../../observability/logger.ts';

/** How long a group's member list is trusted. */
const GROUP_MEMBERS_TTL_MS = 60_000;

export class UserGroupDirectory {
  private readonly client: webApi.WebClient;
  private readonly groupIds: string[];
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly cache = new Map<string, { members: Promise<Set<string>>; fetchedAt: number }>();

  /** `groups` are approver ids; only the `slack:S…` ones are looked up. */
  constructor(options: { client: webApi.WebClient; groups: readonly string[]; logger: Logger; ttlMs?: number; now?: () => number }) {
    this.client = options.client;
    this.groupIds = options.groups.flatMap((id) => /^slack:(S[A-Z0-9]+)$/.exec(id)?.[1] ?? []);
    this.ttlMs = options.ttlMs ?? GROUP_MEMBERS_TTL_MS;
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
  }

  /** The named groups `userId` (`slack:U…`) belongs to, as `slack:S…` ids; empty for a non-Slack user. */
  async groupsOf(userId: UserId): Promise<UserId[]> {
    const user = /^slack:([UW][A-Z0-9]+)$/.exec(userId)?.[1];
    if (!user) return [];
    const found: UserId[] = [];
    for (const group of this.groupIds) {
      if ((await this.members(group)).has(user)) found.push(`slack:${group}`);
    }
    return found;
  }

  /** A group's members, from the cache while fresh; a failed lookup counts as no members and is not kept. */
  private members(group: string): Promise<Set<string>> {
    const cached = this.cache.get(group);
    if (cached && this.now() - cached.fetchedAt < this.ttlMs) return cached.members;
    const members = this.client.usergroups.users
      .list({ usergroup: group })
      .then((result) => new Set(result.users ?? []))
      .catch((error: unknown) => {
        this.cache.delete(group);
        this.logger.warn({ err: error, group }, 'could not list the members of a Slack user group; nobody counts as its member');
        return new Set<string>();
      });
    this.cache.set(group, { members, fetchedAt: this.now() });
    return members;
  }
}
