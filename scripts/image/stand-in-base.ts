// A local stand-in for the official `node:<version>-bookworm-slim` image, for machines that reach no image
// registry: Debian bookworm from the mirror apt uses (debootstrap, minbase, slimmed as Debian's -slim
// images are), the Node binary and headers of the npm package node-linux-<arch>@<version>, the npm that
// Node release bundles (from the `npm` package: the Node package has none), and a `node` user 1000:1000,
// laid out as the official image lays them out (/usr/local).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { exec, type Containers } from './containers.ts';

/** The Debian mirror apt uses here for `suite` (deb822 .sources files and sources.list), or Debian's CDN. */
export function aptMirror(files: { name: string; text: string }[], suite: string): string {
  for (const { name, text } of files) {
    if (name.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (key: string) => new RegExp(`^${key}:\\s*(.+)$`, 'mi').exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
        if (field('Types').includes('deb') && field('Suites').includes(suite) && field('Components').includes('main')) return field('URIs')[0]!;
      }
    } else {
      for (const line of text.split('\n')) {
        const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.+)$/.exec(line.trim());
        if (m && m[2] === suite && m[3]!.split(/\s+/).includes('main')) return m[1]!;
      }
    }
  }
  return 'http://deb.debian.org/debian';
}

function hostAptSources(): { name: string; text: string }[] {
  const files = ['/etc/apt/sources.list'];
  if (existsSync('/etc/apt/sources.list.d')) files.push(...readdirSync('/etc/apt/sources.list.d').map((f) => join('/etc/apt/sources.list.d', f)));
  return files.filter((f) => existsSync(f)).map((f) => ({ name: f, text: readFileSync(f, 'utf8') }));
}

/** The npm version a Node release bundles: the latest "upgrade npm to" entry of its changelog (newest first). */
export function bundledNpmVersion(changelog: string): string {
  const version = /\*\*deps\*\*: upgrade npm to (\d+\.\d+\.\d+)/.exec(changelog)?.[1];
  if (!version) throw new Error('the Node changelog names no npm upgrade');
  return version;
}

async function npmPack(spec: string, into: string): Promise<string> {
  mkdirSync(into, { recursive: true });
  const [{ filename: name }] = JSON.parse(await exec('npm', ['pack', spec, '--pack-destination', into, '--json'])) as [{ filename: string }];
  const dir = join(into, spec.replace(/@[^@]+$/, ''));
  mkdirSync(dir, { recursive: true });
  await exec('tar', ['-xzf', join(into, name), '-C', dir, '--strip-components=1']);
  return dir;
}

/** Builds the stand-in under `work` and imports it as `tag`. */
export async function buildStandInBase(containers: Containers, work: string, nodeVersion: string, tag: string): Promise<void> {
  const rootfs = join(work, 'rootfs');
  const mirror = aptMirror(hostAptSources(), 'bookworm');
  await exec('debootstrap', ['--variant=minbase', 'bookworm', rootfs, mirror]);
  // What Debian's -slim images leave out (docs but their copyright, man pages, locales), and apt's caches.
  await exec('sh', ['-c', `cd '${rootfs}' && find usr/share/doc -mindepth 1 ! -type d ! -name copyright -delete && find usr/share/doc -mindepth 1 -type d -empty -delete && rm -rf usr/share/man/* usr/share/info/* usr/share/locale/* var/cache/apt/* var/lib/apt/lists/* var/log/*.log`]);

  const node = await npmPack(`node-linux-${process.arch}@${nodeVersion}`, join(work, 'packs'));
  const npm = await npmPack(`npm@${bundledNpmVersion(readFileSync(join(node, 'CHANGELOG.md'), 'utf8'))}`, join(work, 'packs'));
  const local = join(rootfs, 'usr/local');
  await exec('cp', ['-a', join(node, 'bin/node'), join(local, 'bin/node')]);
  mkdirSync(join(local, 'include'), { recursive: true });
  await exec('cp', ['-a', join(node, 'include/node'), join(local, 'include/node')]);
  await exec('cp', ['-a', join(node, 'share/.'), join(local, 'share')]);
  mkdirSync(join(local, 'lib/node_modules'), { recursive: true });
  await exec('cp', ['-a', npm, join(local, 'lib/node_modules/npm')]);
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(local, 'bin/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(local, 'bin/npx'));
  await exec('chroot', [rootfs, 'groupadd', '--gid', '1000', 'node']);
  await exec('chroot', [rootfs, 'useradd', '--uid', '1000', '--gid', 'node', '--shell', '/bin/bash', '--create-home', 'node']);

  const tar = spawn('tar', ['-C', rootfs, '--numeric-owner', '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await containers.podmanWithInput(
    tar.stdout,
    'import',
    '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    '--change', `ENV NODE_VERSION=${nodeVersion}`,
    '--change', 'CMD ["node"]',
    '-', tag,
  );
}
