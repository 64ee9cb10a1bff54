// Renders every flow machine as a Mermaid state diagram into docs/flows/<name>.mmd.
// Run: node_modules/.bin/node scripts/render-diagrams.ts (test/flows/diagrams.test.ts fails when they are stale).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { flows, preflightMachine } from '../flows/index.ts';

export const DIAGRAM_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'flows');

export const MACHINES: Record<string, AnyStateMachine> = { preflight: preflightMachine, ...flows };

const nodeName = (node: AnyStateNode) => node.path.join('_');

function eventLabel(eventType: string): string {
  const actor = /^xstate\.(done|error)\.actor\.(.+)$/.exec(eventType);
  if (actor) return `${actor[2]} ${actor[1] === 'done' ? 'done' : 'failed'}`;
  return eventType;
}

function guardLabel(guard: unknown): string {
  if (guard === undefined) return '';
  if (typeof guard === 'function') return ` [${guard.name || 'guard'}]`;
  if (typeof guard === 'string') return ` [${guard}]`;
  const { type, params } = guard as { type: string; params?: Record<string, unknown> };
  const shown = params && typeof params === 'object' && 'value' in params ? `=${String(params.value)}` : '';
  return ` [${type}${shown}]`;
}

function renderNode(node: AnyStateNode, indent: string, lines: string[], edges: string[]) {
  const children = Object.values(node.states) as AnyStateNode[];
  const name = nodeName(node);
  if (children.length === 0) {
    lines.push(`${indent}state "${node.key}" as ${name}`);
  } else {
    lines.push(`${indent}state ${name} {`);
    lines.push(`${indent}  [*] --> ${nodeName(node.initial.target[0]!)}`);
    for (const child of children) renderNode(child, `${indent}  `, lines, edges);
    lines.push(`${indent}}`);
  }
  if (node.type === 'final') edges.push(`${name} --> [*]`);
  const transitions = [...(node.always ?? []), ...[...node.transitions.values()].flat()];
  for (const t of transitions) {
    const event = t.eventType === '' ? '' : eventLabel(t.eventType);
    const label = `${event}${guardLabel(t.guard)}`.trim();
    for (const target of t.target ?? [node]) edges.push(`${name} --> ${nodeName(target)}${label ? ` : ${label}` : ''}`);
  }
}

export function toMermaid(machine: AnyStateMachine): string {
  const lines = ['stateDiagram-v2'];
  const edges: string[] = [];
  const root = machine.root;
  lines.push(`  [*] --> ${nodeName(root.initial.target[0]!)}`);
  for (const child of Object.values(root.states) as AnyStateNode[]) renderNode(child, '  ', lines, edges);
  lines.push(...edges.map((edge) => `  ${edge}`));
  for (const [eventType, transitions] of root.transitions) {
    for (const t of transitions) {
      for (const target of t.target ?? []) lines.push(`  note right of ${nodeName(target)} : ${eventType} from any state`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function renderDiagrams(): Record<string, string> {
  return Object.fromEntries(Object.entries(MACHINES).map(([name, machine]) => [`${name}.mmd`, toMermaid(machine)]));
}

if (import.meta.main) {
  mkdirSync(DIAGRAM_DIR, { recursive: true });
  for (const [file, text] of Object.entries(renderDiagrams())) writeFileSync(join(DIAGRAM_DIR, file), text);
  console.log(`wrote ${Object.keys(MACHINES).length} diagrams to ${DIAGRAM_DIR}`);
}
