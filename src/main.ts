// Entry point: `npm start`. With no chat or cloud credentials it starts the sandbox.
import { ConfigError, loadConfig } from './config/index.ts';
import { startApp } from './app.ts';

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  let app;
  try {
    app = await startApp(config, testHooks(process.env));
  } catch (error) {
    // Start-up failures (bad chat credentials, unreachable database) get one clear line, no stack.
    process.stderr.write(`Start-up failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  const where = config.sandbox
    ? `Sandbox ready: open ${publicUrl(config.port, app.url)}/ and type /backup-setup c-sandbox-dedicated`
    : `backup-setup bot listening on port ${new URL(app.url).port}`;
  process.stdout.write(`${where}\n`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutting down: no new work, finishing what runs');
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        app.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** Switches for the crash and recovery tests that run the bot as a process; nothing else sets them. */
function testHooks(env: NodeJS.ProcessEnv) {
  const every = Number(env.BACKUP_SETUP_TEST_RESUME_EVERY_MS);
  return {
    holdInbox: env.BACKUP_SETUP_TEST_HOLD_INBOX === '1',
    ...(Number.isInteger(every) && every > 0 ? { resumeEveryMs: every } : {}),
  };
}

function publicUrl(port: number, url: string): string {
  return port === 0 ? url : `http://localhost:${new URL(url).port}`;
}

await main();
