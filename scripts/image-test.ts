// `npm run image:test`: builds the Dockerfile as it is and runs the image the way Kubernetes runs it
// (read-only, uid 1000, every capability dropped, /data a volume), with podman and buildah, no daemon:
//  1. pulls the Dockerfile's base image, or builds a stand-in for it when no registry is reachable;
//  2. builds the Dockerfile, changing only the base (--build-arg NODE_IMAGE);
//  3. runs it and checks /healthz, /readyz, /metrics, the chat page, the HEALTHCHECK, the user, the
//     capabilities, the read-only filesystem, a full setup through the chat page, and that SIGTERM exits 0;
//  4. starts a new container on the same volume and finds the same state and audit log;
//  5. deletes every container, image and volume it made (its storage is a temporary folder).
// It prints the image's size and build time. Needs root (debootstrap, chroot builds); installs podman,
// buildah, runc and debootstrap with apt when they are missing.
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { connect, rootCertificates } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { freePort } from '../test/support/bot-process.ts';
import { SseReader } from '../test/web/sse.ts';
import { aptInstall, aptUnavailable, onPath } from './apt.ts';
import { Containers, RUN_LIMITS, exec } from './image/containers.ts';
import { buildStandInBase } from './image/stand-in-base.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const IMAGE = 'localhost/backup-setup-bot:image-test';
const VOLUME = 'backup-setup-bot-image-test';
const TOOLS = { podman: 'podman', buildah: 'buildah', runc: 'runc', debootstrap: 'debootstrap' } as const;

const nodeVersion = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: { node: string } }).devDependencies.node;
const dockerfileBase = /^ARG NODE_IMAGE=(\S+)$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))![1]!;

const say = (line: string) => process.stdout.write(`${line}\n`);
const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;

function check(condition: unknown, what: string, detail = ''): void {
  if (!condition) throw new Error(`✗ ${what}${detail ? `: ${detail}` : ''}`);
  say(`  ✓ ${what}`);
}

async function ensureTools() {
  if (process.getuid?.() !== 0) throw new Error('npm run image:test needs root (debootstrap and chroot builds): run it with sudo.');
  const missing = Object.entries(TOOLS).filter(([command]) => !onPath(command)).map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  const why = aptUnavailable();
  if (why) throw new Error(`npm run image:test needs ${missing.join(', ')}, and ${why}: install them with \`sudo apt-get install ${missing.join(' ')}\`.`);
  say(`Installing ${missing.join(', ')} with apt-get for the image test…`);
  await aptInstall(missing);
}

/**
 * The root certificate the TLS-intercepting proxy signs with, as the build's CA bundle holds it, or null
 * when the registry's certificate chains to a root Node already trusts (no proxy, nothing secret).
 */
async function proxyRootCertificate(bundle: string): Promise<string | null> {
  const registry = new URL(await exec('npm', ['config', 'get', 'registry']));
  const root = await new Promise<string>((resolve, reject) => {
    const socket = connect({ host: registry.hostname, port: Number(registry.port || 443), servername: registry.hostname, ca: bundle }, () => {
      let certificate = socket.getPeerCertificate(true);
      while (certificate.issuerCertificate && certificate.issuerCertificate.fingerprint256 !== certificate.fingerprint256) certificate = certificate.issuerCertificate;
      socket.end();
      resolve(certificate.fingerprint256);
    });
    socket.once('error', reject);
  });
  if (rootCertificates.some((pem) => new X509Certificate(pem).fingerprint256 === root)) return null;
  const pems = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return pems.find((pem) => new X509Certificate(pem).fingerprint256 === root) ?? null;
}

/** Saves the image as a docker archive, gzips it to count its compressed size, and looks for `needles`. */
async function saveAndScan(containers: Containers, needles: string[]): Promise<{ gzipped: number; found: string[] }> {
  const saved = containers.podmanStream('save', '--format', 'docker-archive', IMAGE);
  const found = new Set<string>();
  const overlap = Math.max(0, ...needles.map((n) => n.length));
  let tail = '';
  const scan = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const text = tail + chunk.toString('latin1');
      for (const needle of needles) if (text.includes(needle)) found.add(needle);
      tail = text.slice(-overlap);
      callback(null, chunk);
    },
  });
  let gzipped = 0;
  const count = new Writable({ write: (chunk: Buffer, _encoding, callback) => ((gzipped += chunk.length), callback()) });
  await Promise.all([pipeline(saved.stdout, scan, createGzip(), count), saved.done]);
  return { gzipped, found: [...found] };
}

/** Unmounts what podman or buildah left mounted under `dir` (after a failed build), deepest first. */
async function unmountUnder(dir: string) {
  const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((line) => line.split(' ')[1] ?? '').filter((point) => point.startsWith(dir));
  for (const point of mounts.sort().reverse()) await exec('umount', ['--lazy', point]).catch(() => undefined);
}

async function waitForHealth(containers: Containers, name: string, base: string) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const state = await containers.podman('inspect', '--format', '{{.State.Status}}', name);
    if (state !== 'running') throw new Error(`the container ${state} before it was healthy:\n${await containers.podman('logs', name)}`);
    if ((await fetch(`${base}/healthz`).catch(() => null))?.ok) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`/healthz did not answer within 60 s:\n${await containers.podman('logs', name)}`);
}

/** Plays requester and approver of a managed-cluster setup through the chat page's own API. */
async function setUpManagedCluster(base: string) {
  const post = (path: string, body: unknown) => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const events = new SseReader(`${base}/chat/events?user=web:requester`);
  const deadline = Date.now() + 120_000;
  try {
    const accepted = await post('/chat/command', { user: 'web:requester', text: '/backup-setup c-sandbox-managed' });
    if (accepted.status !== 202) throw new Error(`the chat page refused the command: ${accepted.status}`);
    const handled = new Set<string>();
    while (Date.now() < deadline) {
      const event = await events.next();
      if (event.event !== 'message') continue;
      const message = event.data as { id: string; reply: { kind: string; ok?: boolean; text?: string; prompt?: { choices: { value: string }[] } } };
      if (handled.has(message.id)) continue;
      handled.add(message.id);
      const { reply } = message;
      if (reply.kind === 'done') return reply;
      if (reply.kind === 'question') await post('/chat/click', { user: 'web:requester', messageId: message.id, action: 'answer', value: reply.prompt!.choices[0]!.value });
      if (reply.kind === 'approval') await post('/chat/click', { user: 'web:approver', messageId: message.id, action: 'approve' });
    }
    throw new Error('the setup did not finish within 120 s');
  } finally {
    events.close();
  }
}

async function runContainer(containers: Containers, name: string, port: number): Promise<string> {
  await containers.podman(
    'run', '--detach', '--name', name,
    '--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
    '--network', 'host', '--env', `PORT=${port}`, '--volume', `${VOLUME}:/data`,
    ...RUN_LIMITS, IMAGE,
  );
  const base = `http://127.0.0.1:${port}`;
  await waitForHealth(containers, name, base);
  return base;
}

/** Runs `node -e <script>` in the running container and returns what it printed. */
const nodeIn = (containers: Containers, name: string, script: string) => containers.podmanResult('exec', name, 'node', '-e', script);

async function stopWithSigterm(containers: Containers, name: string) {
  await containers.podman('stop', '--time', '30', name);
  const [code, oomKilled] = (await containers.podman('inspect', '--format', '{{.State.ExitCode}} {{.State.OOMKilled}}', name)).split(' ');
  check(code === '0' && oomKilled === 'false', 'SIGTERM: the bot finishes and exits 0', `exit code ${code}`);
}

async function main() {
  const started = performance.now();
  await ensureTools();
  const work = mkdtempSync('/var/tmp/backup-setup-bot-image-test-');
  const containers = new Containers(work);
  try {
    // 1. The base image.
    let base = dockerfileBase.includes('/') ? dockerfileBase : `docker.io/library/${dockerfileBase}`;
    const pulled = await containers.podmanResult('pull', '--quiet', base);
    let standIn = '';
    if (pulled.code !== 0) {
      const since = performance.now();
      base = `localhost/stand-in/node:${nodeVersion}-bookworm-slim`;
      say(`No registry answers for ${dockerfileBase} (${pulled.stderr.trim().split('\n').at(-1)}); building a stand-in, ${base}…`);
      await buildStandInBase(containers, join(work, 'stand-in'), nodeVersion, base);
      standIn = seconds(since);
      say(`  stand-in base built in ${standIn}`);
    }

    // 2. The Dockerfile, as it is.
    const caBundle = process.env.NODE_EXTRA_CA_CERTS;
    const secret = caBundle ? ['--secret', `id=npm-ca,src=${caBundle}`] : [];
    say(`Building the Dockerfile on ${base}${caBundle ? ` (npm trusts ${caBundle} through the build secret npm-ca)` : ''}…`);
    const buildStarted = performance.now();
    await containers.buildah('bud', '--isolation', 'chroot', '--format', 'docker', '--network', 'host', '--build-arg', `NODE_IMAGE=${base}`, ...secret, '--tag', IMAGE, ROOT);
    const buildTime = seconds(buildStarted);
    const [image] = JSON.parse(await containers.podman('image', 'inspect', IMAGE)) as [{ Size: number; Config: { User?: string; Env?: string[]; Volumes?: Record<string, unknown> }; Healthcheck?: { Test?: string[] } }];
    say(`  built in ${buildTime}`);

    check(image.Config.User === '1000:1000', 'the image runs as 1000:1000 (numeric: runAsNonRoot can verify it)', image.Config.User);
    check(image.Healthcheck?.Test?.join(' ').includes('/healthz'), 'the image carries its HEALTHCHECK (docker format)');
    check(image.Config.Volumes && '/data' in image.Config.Volumes, '/data is a volume');
    const proxyRoot = caBundle ? await proxyRootCertificate(readFileSync(caBundle, 'utf8')) : null;
    // A line of the proxy's certificate as a PEM file holds it: found in the saved image if a layer kept it.
    const needles = proxyRoot ? [proxyRoot.split('\n')[Math.floor(proxyRoot.split('\n').length / 2)]!] : [];
    const { gzipped, found } = await saveAndScan(containers, needles);
    check(
      !image.Config.Env?.some((e) => e.startsWith('NODE_EXTRA_CA_CERTS')) && found.length === 0,
      proxyRoot ? "the proxy's CA certificate, which the build trusted, is in no layer" : 'no proxy CA to keep out of the image (the registry chains to a public root)',
    );

    // 3. Run it as production does.
    await containers.podman('volume', 'create', VOLUME);
    const port = await freePort();
    const url = await runContainer(containers, 'bot-1', port);
    check((await fetch(`${url}/healthz`)).status === 200, '/healthz answers 200');
    check((await fetch(`${url}/readyz`)).status === 200, '/readyz answers 200');
    const page = await fetch(`${url}/`);
    check(page.status === 200 && (await page.text()).includes('<title>'), 'the chat page is served');
    const health = await containers.podmanResult('healthcheck', 'run', 'bot-1');
    check(health.code === 0, 'the HEALTHCHECK passes (exec form: the image has no shell)', health.stdout + health.stderr);
    const proc = await nodeIn(containers, 'bot-1', "const s=require('fs').readFileSync('/proc/1/status','utf8');console.log(/^Uid:\\s+(.*)$/m.exec(s)[1].split(/\\s+/).join(','),/^CapEff:\\s+(\\S+)$/m.exec(s)[1])");
    check(proc.stdout === '1000,1000,1000,1000 0000000000000000', 'the bot runs as uid 1000 with no capability', proc.stdout + proc.stderr);
    const write = await nodeIn(containers, 'bot-1', "try{require('fs').writeFileSync('/app/x','')}catch(e){console.log(e.code)}");
    check(write.stdout === 'EROFS', 'the root filesystem is read-only', write.stdout);
    const app = await nodeIn(containers, 'bot-1', "const fs=require('fs');console.log(fs.readdirSync('/app').join(','),fs.readdirSync('/app/deploy').join(','))");
    // deploy/bot-ram-policy.json: the bot's own RAM policy, which the sandbox gives the bot's emulated RAM user.
    check(app.stdout === 'deploy,flows,node_modules,package.json,src bot-ram-policy.json', '/app holds the app, its RAM policy and its production dependencies only', app.stdout);
    const shell = await containers.podmanResult('exec', 'bot-1', 'sh', '-c', 'true');
    check(shell.code !== 0, 'there is no shell in the image');

    const initial = await (await fetch(`${url}/sandbox/state`)).text();
    const done = await setUpManagedCluster(url);
    check(done.ok && /^✅ Backup center setup complete/.test(done.text ?? ''), 'a managed-cluster setup runs to ✅ through the chat page');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    check(/^backup_setup_sessions_started_total [1-9]/m.test(metrics), '/metrics counts the session', metrics.split('\n').filter((l) => l.startsWith('backup_setup_sessions')).join('; '));
    const before = await (await fetch(`${url}/sandbox/state`)).text();
    check(before !== initial, 'the setup changed the emulated account (the add-on is installed)');
    await stopWithSigterm(containers, 'bot-1');
    const logs = await containers.podmanResult('logs', 'bot-1');
    check(!/Warning/.test(logs.stdout + logs.stderr), 'Node printed no warning (node:sqlite needs no flag on Node 24.21)', logs.stderr);
    await containers.podman('rm', 'bot-1');

    // 4. A new container on the same volume.
    const again = await runContainer(containers, 'bot-2', port);
    const after = await (await fetch(`${again}/sandbox/state`)).text();
    check(after === before, 'a new container on the same volume finds the same emulated account', `${createHash('sha256').update(before).digest('hex')} ≠ ${createHash('sha256').update(after).digest('hex')}`);
    await stopWithSigterm(containers, 'bot-2');
    await containers.podman('rm', 'bot-2');
    const audit = await containers.podmanResult('run', '--rm', '--read-only', '--cap-drop', 'ALL', '--network', 'none', '--volume', `${VOLUME}:/data`, ...RUN_LIMITS, IMAGE, 'node', 'src/store/audit-export.ts');
    const rows = audit.stdout.split('\n').filter(Boolean);
    check(audit.code === 0 && rows.some((row) => row.includes('"c-sandbox-managed"')), `the audit log survived too (${rows.length} rows, node src/store/audit-export.ts)`, audit.stderr);

    say(`Image: ${mb(image.Size)} (${mb(gzipped)} gzipped); build ${buildTime}${standIn ? `, stand-in base ${standIn}` : ''}; whole test ${seconds(started)}.`);
  } finally {
    // 5. Clean up: containers, volume, images, build containers, then the storage folder itself.
    await containers.podmanResult('rm', '--force', '--ignore', 'bot-1', 'bot-2');
    await containers.podmanResult('volume', 'rm', '--force', VOLUME);
    await containers.podmanResult('rmi', '--all', '--force');
    await containers.buildah('rm', '--all').catch(() => undefined);
    await unmountUnder(work);
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  process.stderr.write(`image test failed: ${error.message}\n`);
  process.exitCode = 1;
});
