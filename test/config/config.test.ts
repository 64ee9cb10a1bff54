import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.ts';

const SIGNING_SECRET = '0123456789abcdef0123456789abcdef';

function failure(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a configuration error');
}

describe('configuration', () => {
  it('with nothing set starts the sandbox with the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      sandbox: true,
      port: 3000,
      slack: null,
      dingtalk: null,
      approvers: ['web:approver', 'web:approver-2'],
      allowSelfApproval: false,
      approvalTtlMs: 15 * 60_000,
      watchIntervalMs: 24 * 3_600_000,
      channelClusters: null,
      databaseUrl: undefined,
      stateDir: './.state',
      logLevel: 'info',
    });
  });

  it('turns the watch off with WATCH_INTERVAL=off, and reads its durations as APPROVAL_TTL\'s', () => {
    expect(loadConfig({ WATCH_INTERVAL: 'off' }).watchIntervalMs).toBeNull();
    expect(loadConfig({ WATCH_INTERVAL: 'OFF' }).watchIntervalMs).toBeNull();
    expect(loadConfig({ WATCH_INTERVAL: '1h30m' }).watchIntervalMs).toBe(90 * 60_000);
    expect(loadConfig({ WATCH_INTERVAL: '5s' }).watchIntervalMs).toBe(5_000);
  });

  it('with Slack credentials runs live, or against the emulated cloud with BACKUP_SETUP_SANDBOX=1', () => {
    const slack = { SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_SIGNING_SECRET: SIGNING_SECRET, APPROVERS: 'slack:U012AB' };
    expect(loadConfig(slack)).toMatchObject({ sandbox: false, slack: { botToken: 'xoxb-1-2-abc', appToken: undefined } });
    expect(loadConfig({ ...slack, BACKUP_SETUP_SANDBOX: '1' }).sandbox).toBe(true);
  });

  it('serves the sandbox web chat alone, beside a real chat only when asked (then to local clients)', () => {
    const slack = { SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_SIGNING_SECRET: SIGNING_SECRET, APPROVERS: 'slack:U1' };
    expect(loadConfig({}).webChat).toBe('open');
    expect(loadConfig({ ...slack, BACKUP_SETUP_SANDBOX: '1' }).webChat).toBe('off');
    expect(loadConfig({ ...slack, BACKUP_SETUP_SANDBOX: '1', BACKUP_SETUP_WEB_CHAT: '1' }).webChat).toBe('loopback');
    expect(loadConfig({ ...slack, BACKUP_SETUP_WEB_CHAT: '1' }).webChat).toBe('off');
    expect(loadConfig({ SANDBOX_FLEET: '60' }).sandboxFleet).toBe(60);
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_APP_TOKEN: 'xapp-1',
      SLACK_API_URL: 'http://127.0.0.1:9/api/',
      DINGTALK_CLIENT_ID: 'ding-id',
      DINGTALK_CLIENT_SECRET: 'ding-secret',
      DINGTALK_ROBOT_CODE: 'robot',
      DINGTALK_CARD_TEMPLATE_ID: 'tpl.schema',
      DINGTALK_API_URL: 'http://127.0.0.1:9',
      DINGTALK_GATEWAY_URL: 'http://127.0.0.1:10',
      ALIBABA_CLOUD_RAM_ENDPOINT: '127.0.0.1:11',
      ALIBABA_CLOUD_CS_ENDPOINT: '127.0.0.1:12',
      ALIBABA_CLOUD_OSS_ENDPOINT: 'http://127.0.0.1:13',
      APPROVERS: 'slack:U1, dingtalk:manager123',
      ALLOW_SELF_APPROVAL: 'true',
      APPROVAL_TTL: '1h30m',
      WATCH_INTERVAL: '6h',
      CHANNEL_CLUSTERS: 'slack:C1=c-sandbox-dedicated|cn-hangzhou,dingtalk:cidAb==*',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
      STATE_DIR: '/var/lib/bot',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      port: 8080,
      slack: { appToken: 'xapp-1', signingSecret: undefined, apiUrl: 'http://127.0.0.1:9/api/' },
      dingtalk: { clientId: 'ding-id', robotCode: 'robot', gatewayUrl: 'http://127.0.0.1:10' },
      cloud: { ramEndpoint: '127.0.0.1:11', csEndpoint: '127.0.0.1:12', ossEndpoint: 'http://127.0.0.1:13' },
      approvers: ['slack:U1', 'dingtalk:manager123'],
      allowSelfApproval: true,
      approvalTtlMs: 90 * 60_000,
      watchIntervalMs: 6 * 3_600_000,
      channelClusters: [
        { platform: 'slack', channelId: 'C1', clusters: ['c-sandbox-dedicated'], regions: ['cn-hangzhou'], any: false },
        { platform: 'dingtalk', channelId: 'cidAb=', clusters: [], regions: [], any: true },
      ],
      stateDir: '/var/lib/bot',
      logLevel: 'debug',
    });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT "eighty" is not a TCP port; use a number from 0 to 65535'],
    [{ APPROVAL_TTL: '15x' }, 'APPROVAL_TTL "15x" is not a duration between 1m and 7d; use e.g. 15m, 1h or 900s'],
    [{ APPROVAL_TTL: '10s' }, 'APPROVAL_TTL "10s" is not a duration between 1m and 7d; use e.g. 15m, 1h or 900s'],
    [{ WATCH_INTERVAL: 'daily' }, 'WATCH_INTERVAL "daily" is not a duration between 1s and 30d, nor off; use e.g. 24h, 6h or 30m (off turns watching off)'],
    [{ WATCH_INTERVAL: '90d' }, 'WATCH_INTERVAL "90d" is not a duration between 1s and 30d, nor off; use e.g. 24h, 6h or 30m (off turns watching off)'],
    [{ ALLOW_SELF_APPROVAL: 'maybe' }, 'ALLOW_SELF_APPROVAL "maybe" is not a boolean; use true or false'],
    [{ APPROVERS: 'U012AB' }, 'APPROVERS "U012AB" is not a platform-qualified user id; use e.g. slack:U012AB or dingtalk:manager123'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL "loud" is not a log level; use one of fatal, error, warn, info, debug, trace, silent'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL must be a PostgreSQL URL such as postgres://user@host:5432/db'],
    [{ SLACK_API_URL: 'not a url' }, 'SLACK_API_URL must be a URL such as https://example.com/ (SLACK_API_URL)'],
    [
      { SLACK_BOT_TOKEN: 'xoxp-user-token' },
      'SLACK_BOT_TOKEN must be a bot token starting with xoxb- (OAuth & Permissions page of your Slack app)',
    ],
    [
      { SLACK_BOT_TOKEN: 'xoxb-1' },
      'SLACK_SIGNING_SECRET is missing: set it for HTTP mode, or SLACK_APP_TOKEN for Socket Mode',
    ],
    [
      { SLACK_SIGNING_SECRET: SIGNING_SECRET },
      'SLACK_BOT_TOKEN is missing: SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set without it',
    ],
    [
      { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'short' },
      'SLACK_SIGNING_SECRET must be the 32-character hex Signing Secret (Basic Information page of your Slack app)',
    ],
    [
      { DINGTALK_CLIENT_ID: 'ding-id' },
      // The card template is optional now: DingTalk's public MarkdownButton template is the default.
      'DINGTALK_CLIENT_SECRET is missing: DingTalk needs DINGTALK_CLIENT_ID, DINGTALK_CLIENT_SECRET, DINGTALK_ROBOT_CODE together',
    ],
    [{ DINGTALK_TIME_ZONE: 'Mars/Olympus' }, 'DINGTALK_TIME_ZONE must be an IANA time zone such as Asia/Shanghai or Europe/Berlin'],
    [{ SANDBOX_FLEET: 'many' }, 'SANDBOX_FLEET "many" is not a cluster count; use a whole number from 0 to 999'],
    [
      { DINGTALK_CARD_TEMPLATE_ID: 'tpl.schema' },
      'DINGTALK_CLIENT_ID is missing: DingTalk needs DINGTALK_CLIENT_ID, DINGTALK_CLIENT_SECRET, DINGTALK_ROBOT_CODE together',
    ],
    [
      { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: SIGNING_SECRET },
      'APPROVERS is empty: name at least one approver, e.g. APPROVERS=slack:U012AB,dingtalk:manager123',
    ],
    [
      { CHANNEL_CLUSTERS: 'C1=c-a' },
      'CHANNEL_CLUSTERS entry "C1=c-a" is not <platform>:<channel>=<cluster-or-region>|… (platform slack, dingtalk or web)',
    ],
    [
      { CHANNEL_CLUSTERS: 'slack:C1=Prod' },
      'CHANNEL_CLUSTERS target "Prod" in entry "slack:C1=Prod" is neither a cluster id (c…), a region id (cn-hangzhou) nor *',
    ],
  ])('refuses %j with one line naming the variable', (env, message) => {
    expect(failure(env)).toBe(message);
  });

  it('never echoes a secret value in its message', () => {
    const message = failure({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'not-hex-but-secret-value' });
    expect(message).not.toContain('not-hex-but-secret-value');
  });
});
