// The image test's stand-in for the official Node image, when no registry answers: which Debian mirror it
// bootstraps from (the one apt uses here) and which npm it installs (the one the Node release bundles).
import { describe, expect, it } from 'vitest';
import { aptMirror, bundledNpmVersion } from '../../scripts/image/stand-in-base.ts';

describe('the stand-in base image', () => {
  it('bootstraps bookworm from the mirror apt uses, in deb822 or one-line sources', () => {
    const deb822 = {
      name: '/etc/apt/sources.list.d/debian.sources',
      text: 'Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n\nTypes: deb deb-src\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main contrib\n',
    };
    expect(aptMirror([deb822], 'bookworm')).toBe('http://mirror.example/debian');
    const oneLine = { name: '/etc/apt/sources.list', text: '# comment\ndeb [arch=amd64 signed-by=/k.gpg] https://other.example/debian bookworm main non-free\n' };
    expect(aptMirror([oneLine], 'bookworm')).toBe('https://other.example/debian');
    expect(aptMirror([], 'bookworm')).toBe('http://deb.debian.org/debian');
  });

  it('installs the npm its Node release bundles: the newest upgrade in the changelog', () => {
    const changelog = [
      '## 2026-09-08, Version 24.21.0',
      '* [`aaa`] - **src**: something',
      '## 2026-08-26, Version 24.20.0',
      '* \\[[`c4e02f0fbc`](https://github.com/nodejs/node/commit/c4e02f0fbc)] - **deps**: upgrade npm to 11.19.0 (npm team)',
      '* \\[[`7ac97fc84e`](https://github.com/nodejs/node/commit/7ac97fc84e)] - **deps**: upgrade npm to 11.18.0 (npm team)',
    ].join('\n');
    expect(bundledNpmVersion(changelog)).toBe('11.19.0');
    expect(() => bundledNpmVersion('## Version 24.21.0')).toThrow('names no npm upgrade');
  });
});
