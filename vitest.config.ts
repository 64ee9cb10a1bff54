import { configDefaults, defineConfig } from 'vitest/config';

// The test files that drive a program besides Node (Chromium, kubectl). Their project's global setup
// installs what is missing, or skips them with one line saying how to get it (test/support/tools-setup.ts);
// it runs only when one of them is in the run.
const TOOL_TESTS = ['test/web/page.browser.test.ts', 'test/e2e/sandbox-browser.e2e.test.ts', 'test/sandbox/kube.test.ts', 'test/e2e/sandbox-kubeconfig.e2e.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'node', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...TOOL_TESTS] } },
      { extends: true, test: { name: 'tools', include: TOOL_TESTS, globalSetup: ['test/support/tools-setup.ts'] } },
    ],
  },
});
