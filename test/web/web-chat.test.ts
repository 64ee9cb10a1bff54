// The web chat adapter over real HTTP: what the page sends becomes neutral chat events, and what the
// bot posts reaches every open page (private notes only the page of their person).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WEB_CHANNEL } from '../../src/chat/web/index.ts';
import type { ChatEvent } from '../../src/chat/model.ts';
import { serveWebChat, type Served } from './harness.ts';
import { SseReader, type SseEvent } from './sse.ts';
import { APPROVAL_ID, SESSION_ID, bucketScopeQuestion, policyApproval } from './fixtures.ts';

let served: Served;
const readers: SseReader[] = [];

beforeEach(async () => {
  served = await serveWebChat();
});
afterEach(async () => {
  for (const reader of readers.splice(0)) reader.close();
  await served.close();
});

function post(path: string, body: unknown) {
  return fetch(`${served.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** Opens a stream as the page does; resolves with the replayed history once it is `ready`. */
async function watch(user: string): Promise<{ reader: SseReader; history: SseEvent[] }> {
  const reader = new SseReader(`${served.url}/chat/events?user=${encodeURIComponent(user)}`);
  readers.push(reader);
  expect(await reader.status).toBe(200);
  expect((await reader.next()).event).toBe('reset');
  const history: SseEvent[] = [];
  for (let event = await reader.next(); event.event !== 'ready'; event = await reader.next()) history.push(event);
  return { reader, history };
}

const data = (event: SseEvent) => event.data as Record<string, unknown>;
const errorOf = async (response: Response) => ((await response.json()) as { error: string }).error;

describe('commands', () => {
  it('turns a typed command into a parsed command event in the sandbox channel, answered 202 once it is accepted', async () => {
    let release!: () => void;
    served.recorder.reactWith(() => new Promise<void>((resolve) => (release = resolve)));

    let answered = false;
    const responded = post('/chat/command', { user: 'web:requester', text: '/backup-setup c-sandbox-dedicated' }).finally(() => (answered = true));
    const event = await served.recorder.next();
    // The page hears back only once the handler has accepted (stored) the event.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(answered).toBe(false);
    release();
    expect((await responded).status).toBe(202);
    expect(event).toEqual({
      kind: 'command',
      eventId: expect.stringMatching(/^web:[0-9a-f-]{36}$/) as string,
      command: { verb: 'setup', clusterIds: ['c-sandbox-dedicated'] },
      text: '/backup-setup c-sandbox-dedicated',
      actor: { id: 'web:requester', name: 'Riley (requester)' },
      conversation: { platform: 'web', channelId: 'sandbox' },
    });
  });

  it('tells a parse error to the person who typed it only, and calls no handler', async () => {
    const { reader: requester } = await watch('web:requester');
    const { reader: approver } = await watch('web:approver');

    expect((await post('/chat/command', { user: 'web:requester', text: '/backup-setup launch-rockets' })).status).toBe(202);
    const note = await requester.next();
    expect(note.event).toBe('note');
    expect(data(note).text).toContain('Unknown word `launch-rockets`');
    expect(data(note).userId).toBe('web:requester');

    // The approver's page sees the next public message, not the note before it.
    await served.chat.port.post(WEB_CHANNEL, { kind: 'text', text: 'public' });
    expect(data(await approver.next())).toMatchObject({ reply: { kind: 'text', text: 'public' } });
    expect(served.recorder.events).toEqual([]);

    // A page opened later replays the note to its person and to nobody else.
    const replayed = await watch('web:requester');
    expect(replayed.history.map((e) => e.event)).toEqual(['note', 'message']);
    const bystander = await watch('web:bystander');
    expect(bystander.history.map((e) => [e.event, data(e).reply])).toEqual([['message', { kind: 'text', text: 'public' }]]);
  });

  it('refuses an unknown identity and a missing text with a clear 400', async () => {
    const stranger = await post('/chat/command', { user: 'web:mallory', text: 'help' });
    expect(stranger.status).toBe(400);
    expect((await errorOf(stranger))).toBe('Unknown user "web:mallory": use one of web:requester, web:approver, web:approver-2, web:bystander.');

    const empty = await post('/chat/command', { user: 'web:requester', text: '  ' });
    expect(empty.status).toBe(400);
    expect((await errorOf(empty))).toBe('"text" must be a non-empty string.');

    const notJson = await fetch(`${served.url}/chat/command`, { method: 'POST', body: '{oops' });
    expect(notJson.status).toBe(400);
    expect((await errorOf(notJson))).toBe('The request body must be a JSON object.');
    expect(served.recorder.events).toEqual([]);
  });
});

describe('clicks and thread replies', () => {
  async function startThread() {
    const parent = await served.chat.port.post(WEB_CHANNEL, { kind: 'text', text: 'Backup center setup for `c-sandbox-dedicated`' });
    expect(parent).not.toBeNull();
    const thread = { ...WEB_CHANNEL, threadId: parent!.messageId };
    const question = await served.chat.port.post(thread, bucketScopeQuestion());
    const approval = await served.chat.port.post(thread, policyApproval('web:requester'));
    return { thread, question: question!.messageId, approval: approval!.messageId };
  }

  it('turns Approve on an approval message into a decision with that message’s approval and session', async () => {
    const { thread, approval } = await startThread();

    expect((await post('/chat/click', { user: 'web:approver', messageId: approval, action: 'approve' })).status).toBe(202);
    expect(await served.recorder.next()).toEqual<ChatEvent>({
      kind: 'decision',
      eventId: expect.stringMatching(/^web:[0-9a-f-]{36}$/) as string,
      sessionId: SESSION_ID,
      approvalId: APPROVAL_ID,
      decision: 'approve',
      actor: { id: 'web:approver', name: 'Avery (approver)' },
      conversation: thread,
      messageId: approval,
    });

    // After the update (no buttons any more) a late Deny still reaches the runtime, which says it changed nothing.
    await served.chat.port.update({ conversation: thread, messageId: approval }, {
      kind: 'decided', approvalId: APPROVAL_ID, title: 'policy', decision: 'approved', by: 'Avery (approver)', at: '2026-11-24T13:00:00Z',
    });
    expect((await post('/chat/click', { user: 'web:bystander', messageId: approval, action: 'deny' })).status).toBe(202);
    expect(await served.recorder.next()).toMatchObject({ kind: 'decision', approvalId: APPROVAL_ID, decision: 'deny', actor: { id: 'web:bystander' } });
  });

  it('Deny carries its reason; the top message’s Cancel is a cancel of its session; Request again starts the cluster again', async () => {
    const { thread, approval } = await startThread();
    expect((await post('/chat/click', { user: 'web:approver', messageId: approval, action: 'deny', reason: 'Use the team bucket' })).status).toBe(202);
    expect(await served.recorder.next()).toMatchObject({ kind: 'decision', decision: 'deny', reason: 'Use the team bucket', messageId: approval });

    const head = (await served.chat.port.post(WEB_CHANNEL, {
      kind: 'status', sessionId: SESSION_ID, clusterId: 'c-sandbox-dedicated', title: 'Backup center setup', text: 'Backup center setup for `c-sandbox-dedicated`: Reading the cluster…',
      requester: 'web:requester', startedAt: '2026-11-24T13:00:00Z', lines: ['Reading the cluster…'], waitingOn: [], cancellable: true,
    }))!;
    expect((await post('/chat/click', { user: 'web:requester', messageId: head.messageId, action: 'cancel' })).status).toBe(202);
    expect(await served.recorder.next()).toMatchObject({ kind: 'cancel', sessionId: SESSION_ID, actor: { id: 'web:requester' } });

    await served.chat.port.update({ conversation: thread, messageId: approval }, {
      kind: 'decided', approvalId: APPROVAL_ID, title: 'policy', decision: 'expired', by: 'nobody', at: '2026-11-24T13:15:00Z', again: { clusterId: 'c-sandbox-dedicated' },
    });
    expect((await post('/chat/click', { user: 'web:approver', messageId: approval, action: 'again' })).status).toBe(202);
    expect(await served.recorder.next()).toMatchObject({
      kind: 'command', command: { verb: 'setup', clusterIds: ['c-sandbox-dedicated'] }, conversation: WEB_CHANNEL, actor: { id: 'web:approver' },
    });
  });

  it('turns a choice into an answer with the question’s id, and refuses clicks that match no button', async () => {
    const { thread, question, approval } = await startThread();

    expect((await post('/chat/click', { user: 'web:requester', messageId: question, action: 'answer', value: 'all' })).status).toBe(202);
    expect(await served.recorder.next()).toEqual<ChatEvent>({
      kind: 'answer',
      eventId: expect.stringMatching(/^web:[0-9a-f-]{36}$/) as string,
      sessionId: SESSION_ID,
      questionId: 'bucketScope',
      value: 'all',
      messageId: question,
      actor: { id: 'web:requester', name: 'Riley (requester)' },
      conversation: thread,
    });

    const wrongAction = await post('/chat/click', { user: 'web:requester', messageId: approval, action: 'answer', value: 'x' });
    expect(wrongAction.status).toBe(400);
    expect((await errorOf(wrongAction))).toBe(`"action" must be "approve" or "deny" for message ${approval}.`);
    const noButtons = await post('/chat/click', { user: 'web:requester', messageId: thread.threadId, action: 'approve' });
    expect(noButtons.status).toBe(404);
    expect((await errorOf(noButtons))).toBe(`Message ${thread.threadId} has no buttons to click.`);
    expect(served.recorder.events).toHaveLength(1);
  });

  it('shows a thread reply to everyone and hands it to the runtime as thread text', async () => {
    const { thread } = await startThread();
    const { reader: bystander, history } = await watch('web:bystander');
    expect(history.map((e) => data(e).reply)).toMatchObject([{ kind: 'text' }, { kind: 'question' }, { kind: 'approval' }]);

    expect((await post('/chat/reply', { user: 'web:requester', threadId: thread.threadId, text: 'my-bucket' })).status).toBe(202);
    expect(data(await bystander.next())).toMatchObject({
      threadId: thread.threadId,
      author: { id: 'web:requester', name: 'Riley (requester)' },
      reply: { kind: 'text', text: 'my-bucket' },
    });
    expect(await served.recorder.next()).toEqual<ChatEvent>({
      kind: 'threadText',
      eventId: expect.stringMatching(/^web:message:/) as string,
      text: 'my-bucket',
      actor: { id: 'web:requester', name: 'Riley (requester)' },
      conversation: thread,
    });

    const unknown = await post('/chat/reply', { user: 'web:requester', threadId: 'm999', text: 'hello' });
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown))).toBe('There is no thread m999.');
  });
});

describe('event stream', () => {
  it('replays the history on connect, then streams posted and updated messages in threads', async () => {
    const parent = await served.chat.port.post(WEB_CHANNEL, { kind: 'text', text: 'parent' });
    const { reader, history } = await watch('web:approver');
    expect(history.map(data)).toMatchObject([{ id: parent!.messageId, threadId: null, author: null, reply: { text: 'parent' } }]);

    const thread = { ...WEB_CHANNEL, threadId: parent!.messageId };
    const posted = await served.chat.port.post(thread, policyApproval('web:requester'));
    const live = data(await reader.next());
    expect(live).toMatchObject({ id: posted!.messageId, threadId: parent!.messageId, editedAt: null, reply: { kind: 'approval' } });
    expect(live.stepTitle).toMatch(/^Create or update RAM policy `ack-backup-policy-c-sandbox-dedicated` \(.+\)$/);

    await served.chat.port.update(posted!, {
      kind: 'decided', approvalId: APPROVAL_ID, title: 'RAM policy', decision: 'denied', by: 'Avery (approver)', at: '2026-11-24T13:00:00Z',
    });
    const updated = data(await reader.next());
    expect(updated).toMatchObject({ id: posted!.messageId, threadId: parent!.messageId, reply: { kind: 'decided', decision: 'denied' } });
    expect(updated.editedAt).toEqual(expect.any(String));
    expect(updated.stepTitle).toBeNull();
  });

  it('refuses a stream for an unknown identity', async () => {
    const response = await fetch(`${served.url}/chat/events?user=nobody`);
    expect(response.status).toBe(400);
    expect((await errorOf(response))).toContain('Unknown user "nobody"');
  });

  it('ends open streams on close, so the HTTP server can stop', async () => {
    const reader = new SseReader(`${served.url}/chat/events?user=web:requester`);
    expect(await reader.status).toBe(200);
    served.chat.close();
    await served.close(); // would hang with a stream still open
    served = await serveWebChat();
  });
});

describe('the page', () => {
  it('is served with the identities embedded as inert JSON, HTML in names escaped', async () => {
    await served.close();
    served = await serveWebChat([{ id: 'web:evil', name: '</script><img src=x onerror=alert(1)>', role: 'requester' }]);
    const response = await fetch(`${served.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await response.text();
    expect(html).not.toContain('<img');
    expect(html).toContain('\\u003c/script\\u003e\\u003cimg src=x onerror=alert(1)\\u003e');
    const embedded = /<script type="application\/json" id="users">(.*)<\/script>/.exec(html)?.[1];
    expect(JSON.parse(embedded!)).toEqual({ users: [{ id: 'web:evil', name: '</script><img src=x onerror=alert(1)>', role: 'requester' }], clusters: [] });
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('serves its script and style, and leaves other paths to the server', async () => {
    const script = await fetch(`${served.url}/chat/page.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const source = await script.text();
    expect(source).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    expect(source).not.toMatch(/https?:\/\//);
    expect((await fetch(`${served.url}/chat/page.css`)).status).toBe(200);
    expect((await fetch(`${served.url}/healthz`)).status).toBe(404);
    expect((await fetch(`${served.url}/chat/command`)).status).toBe(404);
  });
});
