// The programs some tests drive besides Node: Debian's Chromium (the browser tests) and kubectl (the
// Kubernetes emulator test). This is the global setup of vitest's `tools` project (vitest.config.ts),
// so it runs only when such a test is in the run. It finds each tool; when one is missing it installs
// it with apt (root on Debian), saying so in one line; when it cannot, the tests that need it are
// skipped, with one line naming the package and how to install it. Under CI a missing tool fails the run.
import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { aptInstall, aptUnavailable, onPath } from '../../scripts/apt.ts';

export type ToolName = 'chromium' | 'kubectl';
export type ToolPaths = Record<ToolName, string | null>;

declare module 'vitest' {
  export interface ProvidedContext {
    tools: ToolPaths;
  }
}

interface Tool {
  debianPackage: string;
  neededBy: string;
  /** Its path, or null when it is not installed. */
  find(env: NodeJS.ProcessEnv): string | null;
}

export const TOOLS: Record<ToolName, Tool> = {
  chromium: {
    debianPackage: 'chromium',
    neededBy: 'the browser tests',
    find: (env) => (env.CHROMIUM_PATH ? (existsSync(env.CHROMIUM_PATH) ? env.CHROMIUM_PATH : null) : onPath('chromium', env.PATH)),
  },
  kubectl: {
    debianPackage: 'kubernetes-client',
    neededBy: 'the kubectl test',
    find: (env) => onPath('kubectl', env.PATH),
  },
};

const names = Object.keys(TOOLS) as ToolName[];

export function isCi(env: NodeJS.ProcessEnv): boolean {
  return !!env.CI && !['0', 'false'].includes(env.CI.toLowerCase());
}

/** The one line that says a tool's tests are skipped, and how to get it. */
export function skipLine(name: ToolName, why: string): string {
  const { debianPackage, neededBy } = TOOLS[name];
  const also = name === 'chromium' ? ' (or set CHROMIUM_PATH to a Chromium binary)' : '';
  return `Skipping ${neededBy}: ${debianPackage} is not installed (${why}). Install it with \`sudo apt-get install ${debianPackage}\`${also}.`;
}

export interface Provisioning {
  env: NodeJS.ProcessEnv;
  /** Why apt cannot install here, or null. */
  aptUnavailable(): string | null;
  aptInstall(packages: readonly string[]): Promise<void>;
  say(line: string): void;
}

/** Finds every tool, installing the missing ones when it can; returns each tool's path or null (skipped). */
export async function provisionTools({ env, aptUnavailable, aptInstall, say }: Provisioning): Promise<ToolPaths> {
  const find = () => Object.fromEntries(names.map((name) => [name, TOOLS[name].find(env)])) as ToolPaths;
  let found = find();
  const missing = names.filter((name) => !found[name]);
  if (missing.length === 0) return found;

  // CHROMIUM_PATH names a binary of the user's choice: apt cannot put it there.
  const installable = missing.filter((name) => !(name === 'chromium' && env.CHROMIUM_PATH));
  let why = aptUnavailable();
  if (installable.length > 0 && why === null) {
    const packages = installable.map((name) => TOOLS[name].debianPackage);
    say(`Installing ${packages.join(' and ')} with apt-get for ${installable.map((name) => TOOLS[name].neededBy).join(' and ')} (once; about a minute)…`);
    try {
      await aptInstall(packages);
    } catch (error) {
      why = (error as Error).message;
    }
    found = find();
  }

  const still = names.filter((name) => !found[name]);
  const reason = (name: ToolName) => (name === 'chromium' && env.CHROMIUM_PATH ? `CHROMIUM_PATH=${env.CHROMIUM_PATH} does not exist` : (why ?? 'apt-get installed it, but it is still not found'));
  if (still.length > 0 && isCi(env)) {
    throw new Error(`CI needs every tool the tests drive; missing: ${still.map((name) => `${TOOLS[name].debianPackage} (${reason(name)})`).join(', ')}.`);
  }
  for (const name of still) say(skipLine(name, reason(name)));
  return found;
}

export default async function setup(project: TestProject): Promise<void> {
  const tools = await provisionTools({ env: process.env, aptUnavailable, aptInstall, say: (line) => console.log(line) });
  project.provide('tools', tools);
}
