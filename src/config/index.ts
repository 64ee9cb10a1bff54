// Configuration, loaded once from the environment and validated. A bad value stops start-up with one
// line naming the variable and what is wrong (see ConfigError and src/main.ts).
import { z } from 'zod';
import { parseDuration } from './duration.ts';
import { parseChannelClusters, type ChannelBinding } from './channel-clusters.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface SlackConfig {
  botToken: string;
  signingSecret: string | undefined;
  appToken: string | undefined;
  apiUrl: string | undefined;
}

export interface DingTalkConfig {
  clientId: string;
  clientSecret: string;
  robotCode: string;
  /** Unset: DingTalk's public MarkdownButton template (no template to build by hand). */
  cardTemplateId: string | undefined;
  /** IANA zone the group reads times in; unset: Asia/Shanghai. */
  timeZone: string | undefined;
  apiUrl: string | undefined;
  gatewayUrl: string | undefined;
}

export interface Config {
  /** Emulated Alibaba Cloud account (and, without chat credentials, the local chat page). */
  sandbox: boolean;
  /**
   * The sandbox's web chat (its identity switch lets anyone act as an approver): on when no real chat is
   * configured; beside Slack or DingTalk only when BACKUP_SETUP_WEB_CHAT=1, and then for loopback clients only.
   */
  webChat: 'off' | 'open' | 'loopback';
  /** SANDBOX_FLEET: how many extra managed clusters (c-sandbox-fleet-001 …) the sandbox seeds. */
  sandboxFleet: number;
  port: number;
  slack: SlackConfig | null;
  dingtalk: DingTalkConfig | null;
  cloud: {
    ramEndpoint: string | undefined; csEndpoint: string | undefined; ossEndpoint: string | undefined;
    /** ECS (snapshot service), Cloud Backup, OSS's management API (OpenOssService): overrides like the others. */
    ecsEndpoint?: string | undefined; hbrEndpoint?: string | undefined; ossAdminEndpoint?: string | undefined;
  };
  approvers: string[];
  allowSelfApproval: boolean;
  approvalTtlMs: number;
  /** WATCH_INTERVAL: how often watched clusters are verified; null = `off`. */
  watchIntervalMs: number | null;
  /** null = any channel may set up any cluster. */
  channelClusters: ChannelBinding[] | null;
  databaseUrl: string | undefined;
  stateDir: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

const optional = z
  .string()
  .transform((value) => value.trim())
  .optional()
  .transform((value) => (value === '' ? undefined : value));

const url = (name: string) =>
  optional.refine((value) => value === undefined || URL.canParse(value), {
    message: `must be a URL such as https://example.com/ (${name})`,
  });

const flag = optional.transform((value, ctx) => {
  if (value === undefined) return undefined;
  const normalized = value.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(normalized)) return true;
  if (['0', 'false', 'no', 'off'].includes(normalized)) return false;
  ctx.addIssue({ code: 'custom', message: `"${value}" is not a boolean; use true or false` });
  return z.NEVER;
});

const APPROVER = /^(slack|dingtalk|web):[A-Za-z0-9_.@$-]+$/;

const schema = z.object({
  BACKUP_SETUP_SANDBOX: flag,
  BACKUP_SETUP_WEB_CHAT: flag,
  SANDBOX_FLEET: optional.transform((value, ctx) => {
    if (value === undefined) return 0;
    const n = Number(value);
    if (Number.isInteger(n) && n >= 0 && n <= 999) return n;
    ctx.addIssue({ code: 'custom', message: `"${value.slice(0, 40)}" is not a cluster count; use a whole number from 0 to 999` });
    return z.NEVER;
  }),
  PORT: optional.transform((value, ctx) => {
    if (value === undefined) return 3000;
    const port = Number(value);
    if (Number.isInteger(port) && port >= 0 && port <= 65535) return port;
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a TCP port; use a number from 0 to 65535` });
    return z.NEVER;
  }),
  SLACK_BOT_TOKEN: optional.refine((v) => v === undefined || v.startsWith('xoxb-'), {
    message: 'must be a bot token starting with xoxb- (OAuth & Permissions page of your Slack app)',
  }),
  SLACK_SIGNING_SECRET: optional.refine((v) => v === undefined || /^[0-9a-f]{32}$/i.test(v), {
    message: 'must be the 32-character hex Signing Secret (Basic Information page of your Slack app)',
  }),
  SLACK_APP_TOKEN: optional.refine((v) => v === undefined || v.startsWith('xapp-'), {
    message: 'must be an app-level token starting with xapp- (needed only for Socket Mode)',
  }),
  SLACK_API_URL: url('SLACK_API_URL'),
  DINGTALK_CLIENT_ID: optional,
  DINGTALK_CLIENT_SECRET: optional,
  DINGTALK_ROBOT_CODE: optional,
  DINGTALK_CARD_TEMPLATE_ID: optional,
  DINGTALK_TIME_ZONE: optional.refine((v) => v === undefined || validTimeZone(v), {
    message: 'must be an IANA time zone such as Asia/Shanghai or Europe/Berlin',
  }),
  DINGTALK_API_URL: url('DINGTALK_API_URL'),
  DINGTALK_GATEWAY_URL: url('DINGTALK_GATEWAY_URL'),
  ALIBABA_CLOUD_RAM_ENDPOINT: optional,
  ALIBABA_CLOUD_CS_ENDPOINT: optional,
  ALIBABA_CLOUD_OSS_ENDPOINT: optional,
  ALIBABA_CLOUD_ECS_ENDPOINT: optional,
  ALIBABA_CLOUD_HBR_ENDPOINT: optional,
  ALIBABA_CLOUD_OSS_ADMIN_ENDPOINT: optional,
  APPROVERS: optional.transform((value, ctx) => {
    if (value === undefined) return [];
    const approvers = value.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = approvers.find((a) => !APPROVER.test(a));
    if (bad === undefined) return approvers;
    ctx.addIssue({
      code: 'custom',
      message: `"${bad}" is not a platform-qualified user id; use e.g. slack:U012AB or dingtalk:manager123`,
    });
    return z.NEVER;
  }),
  ALLOW_SELF_APPROVAL: flag,
  APPROVAL_TTL: optional.transform((value, ctx) => {
    if (value === undefined) return 15 * 60_000;
    const ms = parseDuration(value);
    if (ms !== null && ms >= 60_000 && ms <= 7 * 86_400_000) return ms;
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not a duration between 1m and 7d; use e.g. 15m, 1h or 900s`,
    });
    return z.NEVER;
  }),
  WATCH_INTERVAL: optional.transform((value, ctx) => {
    if (value === undefined) return 24 * 3_600_000;
    if (value.toLowerCase() === 'off') return null;
    const ms = parseDuration(value);
    if (ms !== null && ms >= 1_000 && ms <= 30 * 86_400_000) return ms;
    ctx.addIssue({
      code: 'custom',
      message: `"${value.slice(0, 40)}" is not a duration between 1s and 30d, nor off; use e.g. 24h, 6h or 30m (off turns watching off)`,
    });
    return z.NEVER;
  }),
  CHANNEL_CLUSTERS: optional.transform((value, ctx) => {
    if (value === undefined) return null;
    const parsed = parseChannelClusters(value);
    if (typeof parsed !== 'string') return parsed;
    ctx.addIssue({ code: 'custom', message: parsed });
    return z.NEVER;
  }),
  DATABASE_URL: optional.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
    message: 'must be a PostgreSQL URL such as postgres://user@host:5432/db',
  }),
  STATE_DIR: optional.transform((value) => value ?? './.state'),
  LOG_LEVEL: optional.transform((value, ctx) => {
    const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
    if (value === undefined) return 'info' as const;
    const level = levels.find((l) => l === value.toLowerCase());
    if (level) return level;
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a log level; use one of ${levels.join(', ')}` });
    return z.NEVER;
  }),
});

type Env = Record<string, string | undefined>;

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Loads and validates the configuration; throws ConfigError with one line naming the variable. */
export function loadConfig(env: Env = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${String(issue.path[0])} ${issue.message}`);
  }
  const e = parsed.data;

  const slack = slackConfig(e);
  const dingtalk = dingtalkConfig(e);
  const sandbox = e.BACKUP_SETUP_SANDBOX ?? (slack === null && dingtalk === null);

  const approvers = e.APPROVERS.length > 0 ? e.APPROVERS : sandbox ? ['web:approver', 'web:approver-2'] : [];
  if (approvers.length === 0) {
    throw new ConfigError('APPROVERS is empty: name at least one approver, e.g. APPROVERS=slack:U012AB,dingtalk:manager123');
  }

  const realChat = slack !== null || dingtalk !== null;
  const webChat = !sandbox ? 'off' : !realChat ? 'open' : e.BACKUP_SETUP_WEB_CHAT ? 'loopback' : 'off';

  return {
    sandbox,
    webChat,
    sandboxFleet: e.SANDBOX_FLEET,
    port: e.PORT,
    slack,
    dingtalk,
    cloud: {
      ramEndpoint: e.ALIBABA_CLOUD_RAM_ENDPOINT,
      csEndpoint: e.ALIBABA_CLOUD_CS_ENDPOINT,
      ossEndpoint: e.ALIBABA_CLOUD_OSS_ENDPOINT,
      ecsEndpoint: e.ALIBABA_CLOUD_ECS_ENDPOINT,
      hbrEndpoint: e.ALIBABA_CLOUD_HBR_ENDPOINT,
      ossAdminEndpoint: e.ALIBABA_CLOUD_OSS_ADMIN_ENDPOINT,
    },
    approvers,
    allowSelfApproval: e.ALLOW_SELF_APPROVAL ?? false,
    approvalTtlMs: e.APPROVAL_TTL,
    watchIntervalMs: e.WATCH_INTERVAL,
    channelClusters: e.CHANNEL_CLUSTERS,
    databaseUrl: e.DATABASE_URL,
    stateDir: e.STATE_DIR,
    logLevel: e.LOG_LEVEL,
  };
}

type Parsed = z.infer<typeof schema>;

function slackConfig(e: Parsed): SlackConfig | null {
  if (e.SLACK_BOT_TOKEN === undefined) {
    if (e.SLACK_SIGNING_SECRET !== undefined || e.SLACK_APP_TOKEN !== undefined) {
      throw new ConfigError('SLACK_BOT_TOKEN is missing: SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set without it');
    }
    return null;
  }
  if (e.SLACK_SIGNING_SECRET === undefined && e.SLACK_APP_TOKEN === undefined) {
    throw new ConfigError(
      'SLACK_SIGNING_SECRET is missing: set it for HTTP mode, or SLACK_APP_TOKEN for Socket Mode',
    );
  }
  return {
    botToken: e.SLACK_BOT_TOKEN,
    signingSecret: e.SLACK_SIGNING_SECRET,
    appToken: e.SLACK_APP_TOKEN,
    apiUrl: e.SLACK_API_URL,
  };
}

function dingtalkConfig(e: Parsed): DingTalkConfig | null {
  const required = {
    DINGTALK_CLIENT_ID: e.DINGTALK_CLIENT_ID,
    DINGTALK_CLIENT_SECRET: e.DINGTALK_CLIENT_SECRET,
    DINGTALK_ROBOT_CODE: e.DINGTALK_ROBOT_CODE,
  };
  const set = Object.entries(required).filter(([, v]) => v !== undefined);
  if (set.length === 0) {
    if (e.DINGTALK_CARD_TEMPLATE_ID !== undefined) {
      throw new ConfigError(`DINGTALK_CLIENT_ID is missing: DingTalk needs ${Object.keys(required).join(', ')} together`);
    }
    return null;
  }
  const missing = Object.entries(required).find(([, v]) => v === undefined);
  if (missing) {
    throw new ConfigError(`${missing[0]} is missing: DingTalk needs ${Object.keys(required).join(', ')} together`);
  }
  return {
    clientId: e.DINGTALK_CLIENT_ID!,
    clientSecret: e.DINGTALK_CLIENT_SECRET!,
    robotCode: e.DINGTALK_ROBOT_CODE!,
    cardTemplateId: e.DINGTALK_CARD_TEMPLATE_ID,
    timeZone: e.DINGTALK_TIME_ZONE,
    apiUrl: e.DINGTALK_API_URL,
    gatewayUrl: e.DINGTALK_GATEWAY_URL,
  };
}
