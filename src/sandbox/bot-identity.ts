// The bot's own RAM identity in the emulated account: a RAM user whose one custom policy is exactly the minimal
// policy of deploy/bot-ram-policy.json (the file the README prints), with one AccessKey. The bot calls the sandbox with
// that key, so a permission the README forgets fails in the sandbox as it would in the cloud.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AccountState } from './account.ts';
import { newAccessKeyId, newAccessKeySecret } from './account.ts';
import { isoSeconds, randomDigits } from './http.ts';

export const BOT_USER = 'backup-setup-bot';
export const BOT_POLICY = 'backup-setup-bot';
export const BOT_POLICY_FILE = fileURLToPath(new URL('../../deploy/bot-ram-policy.json', import.meta.url));

/** The policy document, compact as RAM stores what it was given. */
export function botPolicyDocument(): string {
  return JSON.stringify(JSON.parse(readFileSync(BOT_POLICY_FILE, 'utf8')));
}

/**
 * Creates the bot's user, policy, attachment and key where missing (a fresh account, or one saved before the bot had
 * its own identity), and sets the policy's default version to the file's document. Returns the bot's key.
 */
export function ensureBotIdentity(state: AccountState, document = botPolicyDocument()): { accessKeyId: string; accessKeySecret: string } {
  const now = isoSeconds();
  if (!state.ram.users.some((u) => u.name === BOT_USER)) {
    state.ram.users.push({ name: BOT_USER, id: randomDigits(16), createDate: now, displayName: BOT_USER, comments: 'the backup-setup bot (sandbox)' });
  }
  const policy = state.ram.policies.find((p) => p.name === BOT_POLICY);
  if (!policy) {
    state.ram.policies.push({
      name: BOT_POLICY, type: 'Custom', description: 'Minimal policy of the backup-setup bot (deploy/bot-ram-policy.json)',
      defaultVersion: 'v1', versions: [{ id: 'v1', document, createDate: now }], nextVersion: 2, createDate: now, updateDate: now,
    });
  } else {
    const current = policy.versions.find((v) => v.id === policy.defaultVersion);
    if (current) current.document = document;
  }
  if (!state.ram.attachments.some((a) => a.user === BOT_USER && a.policy === BOT_POLICY)) {
    state.ram.attachments.push({ user: BOT_USER, policy: BOT_POLICY, policyType: 'Custom', attachDate: now });
  }
  let key = state.ram.accessKeys.find((k) => k.user === BOT_USER && k.status === 'Active');
  if (!key) {
    key = { id: newAccessKeyId(), secret: newAccessKeySecret(), user: BOT_USER, status: 'Active', createDate: now };
    state.ram.accessKeys.push(key);
  }
  return { accessKeyId: key.id, accessKeySecret: key.secret };
}
