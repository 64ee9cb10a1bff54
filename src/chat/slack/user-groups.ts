// Slack user groups as approvers: APPROVERS may name a group (`slack:S0123ABC`, its id from
// usergroups.list) and every member of that group may approve. Needs the usergroups:read scope.
import type { webApi } from '@slack/bolt';
import type { UserId } from '../../../flows/contract.ts';

/** The groups `userId` (`slack:U…`) belongs to, as `slack:S…` ids; empty for a non-Slack user. */
export async function slackUserGroupsOf(client: webApi.WebClient, userId: UserId): Promise<UserId[]> {
  const user = /^slack:(.+)$/.exec(userId)?.[1];
  if (!user) return [];
  const result = await client.usergroups.list({ include_users: true });
  return (result.usergroups ?? [])
    .filter((group) => group.id !== undefined && (group.users ?? []).includes(user))
    .map((group) => `slack:${group.id}`);
}
