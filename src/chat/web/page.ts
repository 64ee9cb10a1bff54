// The chat page's files: plain HTML, CSS and browser JavaScript under ./static, served as they are.
import { readFileSync } from 'node:fs';
import type { WebUser } from './index.ts';

const read = (name: string) => readFileSync(new URL(`./static/${name}`, import.meta.url), 'utf8');

const ASSETS: Record<string, { contentType: string; body: string }> = {
  '/chat/page.js': { contentType: 'text/javascript; charset=utf-8', body: read('page.js') },
  '/chat/page.css': { contentType: 'text/css; charset=utf-8', body: read('page.css') },
  // The one parser of the bot's inline marks, the same file the server uses.
  '/chat/inline.js': { contentType: 'text/javascript; charset=utf-8', body: readFileSync(new URL('../../../flows/domain/inline.js', import.meta.url), 'utf8') },
  '/chat/favicon.svg': { contentType: 'image/svg+xml', body: read('favicon.svg') },
};

const TEMPLATE = read('index.html');

export function pageAsset(path: string): { contentType: string; body: string } | undefined {
  return Object.hasOwn(ASSETS, path) ? ASSETS[path] : undefined;
}

/** A guide entry of the empty channel: a cluster to try and what it shows. */
export interface GuideCluster {
  id: string;
  shows: string;
}

/** The page with its identities and guide; the JSON is made safe to sit inside a <script> element. */
export function renderPage(users: readonly WebUser[], clusters: readonly GuideCluster[] = []): string {
  const json = JSON.stringify({ users, clusters }).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
  return TEMPLATE.replace('{{USERS_JSON}}', () => json);
}
