// The sandbox chat page: renders the channel streamed from /chat/events and posts what people do.
// Everything is built from DOM nodes and text nodes, never parsed as HTML: the bot echoes user input.
// The bot's texts carry inline marks (identifiers as code, people, times), parsed by the server's own module.
import { spans } from '/chat/inline.js';

const users = JSON.parse(document.getElementById('users').textContent);
const channelView = document.getElementById('channel');
const identity = document.getElementById('identity');
const connection = document.getElementById('connection');
const composerForm = document.getElementById('composer-form');
const composer = document.getElementById('composer');

const STORED_IDENTITY = 'backup-setup-sandbox-identity';
const OUTCOME_LABEL = { created: 'created', updated: 'updated', 'already present': 'already present' };

let stream = null;

// ---- identity ----------------------------------------------------------------------------------

for (const user of users) {
  const option = el('option', { value: user.id }, user.name);
  identity.append(option);
}
const wanted = new URLSearchParams(location.search).get('user') ?? localStorage.getItem(STORED_IDENTITY);
identity.value = users.some((u) => u.id === wanted) ? wanted : users[0].id;
identity.addEventListener('change', () => {
  localStorage.setItem(STORED_IDENTITY, identity.value);
  connect();
});

function me() {
  return identity.value;
}

// ---- stream ------------------------------------------------------------------------------------

function connect() {
  if (stream) stream.close();
  status('connecting…', 'connecting');
  stream = new EventSource(`/chat/events?user=${encodeURIComponent(me())}`);
  stream.addEventListener('ready', () => status('connected', 'connected'));
  stream.addEventListener('error', () => status('reconnecting…', 'reconnecting'));
  stream.addEventListener('reset', () => channelView.replaceChildren());
  stream.addEventListener('message', (event) => showMessage(JSON.parse(event.data)));
  stream.addEventListener('note', (event) => showNote(JSON.parse(event.data)));
}

function status(text, state) {
  connection.textContent = text;
  connection.dataset.state = state;
}

// ---- actions -----------------------------------------------------------------------------------

async function send(path, body) {
  try {
    const response = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: me(), ...body }),
    });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({ error: response.statusText }));
      showLocalProblem(problem.error ?? `HTTP ${response.status}`);
    }
  } catch (error) {
    showLocalProblem(`The bot cannot be reached: ${error.message}`);
  }
}

composerForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = composer.value.trim();
  if (!text) return;
  composer.value = '';
  void send('/chat/command', { text });
});

function click(messageId, action, value) {
  return send('/chat/click', value === undefined ? { messageId, action } : { messageId, action, value });
}

// ---- channel layout: each thread is a parent message then its replies ---------------------------

function threadOf(rootId) {
  let thread = document.getElementById(`thread-${rootId}`);
  if (thread) return thread;
  thread = el('section', { class: 'thread', id: `thread-${rootId}`, 'data-testid': 'thread', 'data-thread-id': rootId });
  const root = el('div', { class: 'root' });
  const replies = el('div', { class: 'replies', 'data-testid': 'replies' });
  thread.append(root, replies, replyBox(rootId));
  channelView.append(thread);
  return thread;
}

function replyBox(threadId) {
  const input = el('input', { 'data-testid': 'thread-reply', placeholder: 'Reply in thread…', 'aria-label': 'Reply in thread' });
  const form = el('form', { class: 'thread-reply', autocomplete: 'off' }, input, el('button', { type: 'submit', 'data-testid': 'thread-reply-send' }, 'Reply'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    void send('/chat/reply', { threadId, text });
  });
  return form;
}

function showMessage(message) {
  const node = renderMessage(message);
  const existing = document.getElementById(`message-${message.id}`);
  if (existing) return existing.replaceWith(node);
  if (message.threadId === null) threadOf(message.id).querySelector('.root').append(node);
  else threadOf(message.threadId).querySelector('.replies').append(node);
  scrollToEnd();
}

function showNote(note) {
  const node = el(
    'div',
    { class: 'note', id: `note-${note.id}`, 'data-testid': 'note' },
    el('div', { class: 'meta' }, el('span', { class: 'author' }, 'backup-setup'), `Only you can see this · ${time(note.at)}`),
    el('div', { class: 'body' }, ...markup(note.text)),
  );
  if (note.threadId === null) channelView.append(node);
  else threadOf(note.threadId).querySelector('.replies').append(node);
  scrollToEnd();
}

function showLocalProblem(text) {
  showNote({ id: `local-${Date.now()}`, threadId: null, text, at: new Date().toISOString() });
}

function scrollToEnd() {
  channelView.scrollTop = channelView.scrollHeight;
}

// ---- one message -------------------------------------------------------------------------------

function renderMessage(message) {
  const author = message.author ? message.author.name : 'backup-setup';
  const edited = message.editedAt ? ` · edited ${time(message.editedAt)}` : '';
  return el(
    'div',
    {
      class: 'message',
      id: `message-${message.id}`,
      'data-testid': 'message',
      'data-kind': message.reply.kind,
      'data-message-id': message.id,
      'data-author': message.author ? message.author.id : 'bot',
    },
    el('div', { class: 'meta' }, el('span', { class: 'author' }, author), `${time(message.at)}${edited}`),
    el('div', { class: 'body' }, ...renderReply(message)),
  );
}

function renderReply(message) {
  const reply = message.reply;
  const view = message.view ?? {};
  switch (reply.kind) {
    case 'text':
    case 'help':
      return markup(reply.text);
    case 'plan':
      return [el('strong', {}, ...markup(reply.title)), el('ul', {}, ...reply.lines.map((line) => el('li', {}, ...markup(line))))];
    case 'question':
      return renderQuestion(message.id, reply.prompt);
    case 'approval':
      return renderApproval(message, reply, view);
    case 'decided':
      return [
        el('div', { class: 'decided', 'data-testid': 'decided' }, el('strong', {}, ...markup(reply.title)), ' ', ...markup(view.decision)),
        // What was approved stays in the thread, folded away.
        reply.shown
          ? el('details', { 'data-testid': 'decided-details' }, el('summary', {}, 'What was ', reply.decision === 'approved' ? 'approved' : 'asked'),
              ...approvalBody('', message.stepTitle ?? reply.title, reply.shown, view.facts ?? []))
          : '',
      ];
    case 'answered':
      return [
        el('div', { class: 'question answered' }, ...markup(reply.prompt.text)),
        el('div', { class: 'meta', 'data-testid': 'answered' }, ...markup(view.answer)),
      ];
    case 'progress':
      return [el('div', { class: 'progress' }, '⏳ ', ...markup(reply.text))];
    case 'result':
      return [
        el('span', { class: `outcome outcome-${reply.outcome.outcome.replace(/ /g, '-')}`, 'data-testid': 'outcome' }, OUTCOME_LABEL[reply.outcome.outcome] ?? reply.outcome.outcome),
        ...markup(reply.outcome.detail),
      ];
    case 'done': {
      const mark = /^[✅❌]/u.test(reply.text) ? '' : reply.ok ? '✅ ' : '❌ ';
      return [el('div', { class: reply.ok ? 'done-ok' : 'done-failed', 'data-testid': 'done' }, mark, ...markup(reply.text))];
    }
    case 'error':
      return [
        el('div', { class: 'error' }, '⚠️ ', ...markup(reply.text)),
        reply.correlationId ? el('div', { class: 'meta', 'data-testid': 'correlation-id' }, 'correlation id ', el('code', {}, reply.correlationId)) : '',
      ];
    default:
      return [el('pre', {}, JSON.stringify(reply, null, 2))];
  }
}

function renderQuestion(messageId, prompt) {
  const parts = [el('div', { class: 'question' }, ...markup(prompt.text))];
  // A lone choice (a drift message's Fix) is no suggestion among others.
  const label = (choice, index) => (index === 0 && prompt.choices.length > 1 ? `${choice.label} (suggested)` : choice.label);
  if (prompt.choices.length > 5) {
    const select = el('select', { 'data-testid': 'choice-select', 'aria-label': 'Choices' },
      ...prompt.choices.map((choice, index) => el('option', { value: choice.value }, label(choice, index))));
    const answer = el('button', { type: 'button', 'data-testid': 'choice-submit' }, 'Answer');
    answer.addEventListener('click', () => click(messageId, 'answer', select.value));
    parts.push(el('div', { class: 'actions' }, select, answer));
  } else if (prompt.choices.length > 0) {
    const buttons = prompt.choices.map((choice, index) => {
      const button = el('button', { type: 'button', 'data-testid': 'choice', 'data-value': choice.value, class: index === 0 ? 'suggested' : '' }, label(choice, index));
      button.addEventListener('click', () => click(messageId, 'answer', choice.value));
      return button;
    });
    parts.push(el('div', { class: 'actions' }, ...buttons));
  }
  if (prompt.freeText) parts.push(el('div', { class: 'hint', 'data-testid': 'free-text-hint' }, 'Or type your own answer in the thread reply box below.'));
  return parts;
}

/** An approval's content: its step, what will change, the policy document, and its facts. */
function approvalBody(heading, title, reply, facts) {
  const { request, preview } = reply.prompt;
  const details = el('dl', {});
  for (const fact of facts) {
    const value = fact.label === 'Risk' ? el('span', { class: `risk-${reply.risk}`, 'data-testid': 'risk' }, ...markup(fact.text)) : el('span', {}, ...markup(fact.text));
    details.append(el('dt', {}, fact.label), el('dd', {}, value));
  }
  const policy = request.params.document;
  return [
    el('h3', {}, heading, ...markup(title)),
    el('div', {}, 'What will change:'),
    el('ul', { 'data-testid': 'changes' }, ...preview.changes.map((change) => el('li', {}, ...markup(change)))),
    policy ? el('pre', { 'data-testid': 'policy-document' }, JSON.stringify(policy, null, 2)) : '',
    details,
  ];
}

function renderApproval(message, reply, view) {
  const approve = el('button', { type: 'button', 'data-testid': 'approve' }, 'Approve');
  const deny = el('button', { type: 'button', 'data-testid': 'deny' }, 'Deny');
  approve.addEventListener('click', () => click(message.id, 'approve'));
  deny.addEventListener('click', () => click(message.id, 'deny'));

  return [
    el('div', { class: 'approval', 'data-testid': 'approval' },
      ...approvalBody('🔐 Approval needed: ', message.stepTitle ?? reply.prompt.request.step, reply, view.facts ?? []),
      el('div', { class: 'actions' }, approve, deny)),
  ];
}

// ---- text --------------------------------------------------------------------------------------

/** The bot's inline marks as DOM nodes: code spans, people by display name, times in local time, line breaks. */
function markup(value) {
  const nodes = [];
  for (const span of spans(String(value ?? ''))) {
    if (span.kind === 'code') nodes.push(el('code', {}, span.text));
    else if (span.kind === 'pre') nodes.push(el('pre', {}, span.text));
    else if (span.kind === 'person') nodes.push(el('span', { class: 'person' }, nameOf(span.id)));
    else if (span.kind === 'time') nodes.push(el('time', { datetime: span.iso }, time(span.iso)));
    else span.text.split('\n').forEach((line, i) => nodes.push(...(i ? [el('br', {})] : []), ...(line ? [document.createTextNode(line)] : [])));
  }
  return nodes;
}

/** A web identity's display name; other platforms' people by id. */
function nameOf(id) {
  return users.find((user) => user.id === id)?.name ?? id;
}

function time(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}

/** An element with attributes and children (strings become text nodes). */
function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== '') node.setAttribute(name, value);
  for (const child of children) if (child !== '') node.append(child);
  return node;
}

connect();
