// The ack-latency baseline as its own process: a bare Bolt app that acknowledges `/backup-setup` and every
// block action and does nothing else (PORT, SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL).
import bolt from '@slack/bolt';

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
app.command('/backup-setup', async ({ ack }) => ack());
app.action({ type: 'block_actions' }, async ({ ack }) => ack());
await app.start(Number(env('PORT')));
process.on('SIGTERM', () => void app.stop().then(() => process.exit(0)));
