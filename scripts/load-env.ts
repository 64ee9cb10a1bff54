// Preloaded by `npm start` and `npm run audit-export`: reads `.env` when there is one. Node's own
// `--env-file-if-exists` prints ".env not found. Continuing without it." when there is none, which is
// the normal case for a newcomer. As with `--env-file`, variables already in the environment win.
try {
  process.loadEnvFile('.env');
} catch (error) {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}
