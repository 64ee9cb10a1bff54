// Requests as Slack sends them to /slack/events: v0 HMAC-SHA256 signatures, form-encoded slash commands,
// form-encoded `payload=<json>` interactions, and Events API JSON.
import { createHmac, randomBytes } from 'node:crypto';

export const SIGNING_SECRET = 'e3b0c44298fc1c149afbf4c8996fb924';
export const TEAM_ID = 'T0SANDBOX';
export const APP_ID = 'A0BACKUPSETUP';

export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

/** Signs `body` as Slack does: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>` with the signing secret. */
export function signed(body: string, contentType: string, options: { secret?: string; timestamp?: number } = {}): SignedRequest {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = createHmac('sha256', options.secret ?? SIGNING_SECRET).update(`v0:${timestamp}:${body}`).digest('hex');
  return {
    body,
    headers: {
      'content-type': contentType,
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': `v0=${signature}`,
    },
  };
}

export function slashCommand(fields: { text: string; user: string; channel: string; responseUrl: string }): string {
  return new URLSearchParams({
    token: 'gIkuvaNzQIHg97ATvDxqgjtO',
    team_id: TEAM_ID,
    team_domain: 'sandbox',
    channel_id: fields.channel,
    channel_name: 'backups',
    user_id: fields.user,
    user_name: fields.user.toLowerCase(),
    command: '/backup-setup',
    text: fields.text,
    api_app_id: APP_ID,
    is_enterprise_install: 'false',
    response_url: fields.responseUrl,
    trigger_id: `${Date.now()}.${randomBytes(4).toString('hex')}`,
  }).toString();
}

export interface ClickedMessage {
  ts: string;
  threadTs?: string;
  blocks?: unknown[];
  text?: string;
}

/** A block_actions interaction payload for a click on `action` in `message`. */
export function blockActions(fields: {
  user: string;
  channel: string;
  message: ClickedMessage;
  action: Record<string, unknown>;
  responseUrl: string;
  /** From the emulator (SlackApi.issueTrigger), when the click may open a modal. */
  triggerId?: string;
}): string {
  const { message } = fields;
  const payload = {
    type: 'block_actions',
    user: { id: fields.user, username: fields.user.toLowerCase(), name: fields.user.toLowerCase(), team_id: TEAM_ID },
    api_app_id: APP_ID,
    token: 'gIkuvaNzQIHg97ATvDxqgjtO',
    container: {
      type: 'message',
      message_ts: message.ts,
      channel_id: fields.channel,
      is_ephemeral: false,
      ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
    },
    trigger_id: fields.triggerId ?? `${Date.now()}.${randomBytes(4).toString('hex')}`,
    team: { id: TEAM_ID, domain: 'sandbox' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: fields.channel, name: 'backups' },
    message: {
      type: 'message',
      user: 'U0BACKUPBOT',
      bot_id: 'B0BACKUPBOT',
      text: message.text ?? '',
      ts: message.ts,
      ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
      blocks: message.blocks ?? [],
    },
    state: { values: {} },
    response_url: fields.responseUrl,
    actions: [{ ...fields.action, action_ts: `${Date.now() / 1000}` }],
  };
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/**
 * A view_submission payload (https://api.slack.com/reference/interaction-payloads/views#view_submission): the
 * modal as opened, with what the person typed in `state.values[block_id][action_id].value`.
 */
export function viewSubmission(fields: { user: string; view: { id: string; view: Record<string, unknown> }; values: Record<string, Record<string, string | null>> }): string {
  const values = Object.fromEntries(
    Object.entries(fields.values).map(([block, actions]) => [block, Object.fromEntries(Object.entries(actions).map(([action, value]) => [action, { type: 'plain_text_input', value }]))]),
  );
  const payload = {
    type: 'view_submission',
    team: { id: TEAM_ID, domain: 'sandbox' },
    user: { id: fields.user, username: fields.user.toLowerCase(), name: fields.user.toLowerCase(), team_id: TEAM_ID },
    api_app_id: APP_ID,
    token: 'gIkuvaNzQIHg97ATvDxqgjtO',
    trigger_id: `${Date.now()}.${Math.floor(Math.random() * 1e9)}.${randomBytes(8).toString('hex')}`,
    view: { ...fields.view.view, id: fields.view.id, team_id: TEAM_ID, state: { values }, hash: `${Date.now()}.abc`, app_id: APP_ID, bot_id: 'B0BACKUPBOT' },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** An Events API `event_callback` envelope around a message event. */
export function messageEvent(event: Record<string, unknown>): string {
  return JSON.stringify({
    token: 'gIkuvaNzQIHg97ATvDxqgjtO',
    team_id: TEAM_ID,
    api_app_id: APP_ID,
    event: { type: 'message', channel_type: 'channel', event_ts: event.ts, ...event },
    type: 'event_callback',
    event_id: `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ enterprise_id: null, team_id: TEAM_ID, user_id: 'U0BACKUPBOT', is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  });
}

export const FORM = 'application/x-www-form-urlencoded';
export const JSON_TYPE = 'application/json';

export async function send(url: string, request: SignedRequest): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { method: 'POST', headers: request.headers, body: request.body });
  return { status: response.status, body: await response.text() };
}
