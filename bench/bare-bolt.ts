// The ack-latency baseline as its own process: a bare Bolt app that acknowledges `/backup-setup` and every
// block action and does nothing else (PORT, SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL). With
// DATABASE_URL it first commits one INSERT of the request into PostgreSQL: the least any durable inbox on
// PostgreSQL must do before it acks (one round trip and one commit).
import { randomUUID } from 'node:crypto';
import bolt from '@slack/bolt';
import pg from 'pg';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const receiver = new bolt.HTTPReceiver({
  signingSecret: env('SLACK_SIGNING_SECRET'),
  customRoutes: [{ path: '/readyz', method: ['GET'], handler: (_req, res) => void res.writeHead(200).end('ok') }],
});
const app = new bolt.App({ token: env('SLACK_BOT_TOKEN'), receiver, clientOptions: { slackApiUrl: env('SLACK_API_URL') }, logLevel: bolt.LogLevel.ERROR });
const pool = process.env.DATABASE_URL ? new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 }) : null;
await pool?.query('CREATE TABLE IF NOT EXISTS bare_inbox (id TEXT PRIMARY KEY, body TEXT NOT NULL)');
const store = async (body: unknown) => {
  await pool?.query('INSERT INTO bare_inbox (id, body) VALUES ($1, $2)', [randomUUID(), JSON.stringify(body)]);
};
app.command('/backup-setup', async ({ ack, body }) => {
  await store(body);
  await ack();
});
app.action({ type: 'block_actions' }, async ({ ack, body }) => {
  await store(body);
  await ack();
});
await app.start(Number(env('PORT')));
process.on('SIGTERM', () => void app.stop().then(() => process.exit(0)));
