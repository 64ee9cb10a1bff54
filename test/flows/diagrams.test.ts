// The committed diagrams in docs/flows must match the machines; regenerate with
// `node_modules/.bin/node scripts/render-diagrams.ts`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DIAGRAM_DIR, renderDiagrams } from '../../scripts/render-diagrams.ts';

describe('docs/flows diagrams are up to date', () => {
  const rendered = renderDiagrams();
  test.each(Object.keys(rendered))('%s', (file) => {
    let committed: string;
    try {
      committed = readFileSync(join(DIAGRAM_DIR, file), 'utf8');
    } catch {
      committed = '(missing)';
    }
    expect(committed, `docs/flows/${file} is stale: run node_modules/.bin/node scripts/render-diagrams.ts`).toBe(rendered[file]);
  });

  test('every privileged step of a setup flow passes through an approval state', () => {
    for (const file of ['managed.mmd', 'dedicated.mmd', 'registered.mmd']) {
      const text = rendered[file]!;
      for (const step of ['createBucket', 'createRamUser', 'installAddon', 'createBackupVault']) {
        expect(text).toContain(`${step}_awaitingApproval --> ${step}_applying : APPROVE [decidesShownApproval]`);
      }
    }
  });
});
