// The path of a program a test drives (Chromium, kubectl), as the `tools` project's global setup found
// or installed it (test/support/tools-setup.ts).
import { inject } from 'vitest';
import type { ToolName, ToolPaths } from './tools-setup.ts';

/** The tool's path; null means it is missing and its tests are skipped (the run's first lines say why). */
export function toolPath(name: ToolName): string | null {
  const tools = inject('tools') as ToolPaths | undefined;
  if (!tools) throw new Error(`This test drives ${name}: add its file to the \`tools\` project in vitest.config.ts.`);
  return tools[name];
}
