// The sandbox chat page: renders the channel streamed from /chat/events and posts what people do.
// Everything is built from DOM nodes and text nodes, never parsed as HTML: the bot echoes user input.
// The bot's texts carry inline marks (identifiers as code, people, times), parsed by the server's own module.
import { spans } from '/chat/inline.js';

const { users, clusters } = JSON.parse(document.getElementById('users').textContent);
const channelView = document.getElementById('channel');
const identity = document.getElementById('identity');
const connection = document.getElementById('connection');
const composerForm = document.getElementById('composer-form');
const composer = document.getElementById('composer');
const guide = document.getElementById('guide');

const STORED_IDENTITY = 'backup-setup-sandbox-identity';
const OUTCOME_LABEL = { created: 'created', updated: 'updated', 'already present': 'already present' };

let stream = null;
/** The history is being replayed: nothing is announced, and focus stays where it is. */
let replaying = true;
/** Screen readers hear new messages only, from this region (the channel itself is not live). */
const announcer = document.getElementById('announcer');

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

/** A person's display name on this page (the bot's texts carry platform ids). */
function nameOf(id) {
  return users.find((u) => u.id === id)?.name ?? id;
}

function approvers() {
  return users.filter((u) => u.role === 'approver');
}

// ---- stream ------------------------------------------------------------------------------------

function connect() {
  if (stream) stream.close();
  status('connecting…', 'connecting');
  stream = new EventSource(`/chat/events?user=${encodeURIComponent(me())}`);
  stream.addEventListener('ready', () => {
    replaying = false;
    status('connected', 'connected');
    showGuide();
    focusPending();
  });
  stream.addEventListener('error', () => status('reconnecting…', 'reconnecting'));
  stream.addEventListener('reset', () => {
    replaying = true;
    channelView.replaceChildren();
    announcer.replaceChildren();
  });
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

/** How long a clicked message's buttons stay disabled waiting for its update (a refused click changes nothing). */
const CLICK_SETTLE_MS = 4_000;

function click(messageId, action, extra = {}) {
  // The buttons of a message that was answered leave the tab order at once; the update replaces them.
  const controls = [...document.querySelectorAll(`#message-${messageId} :is(.actions, .deny-form) :is(button, select)`)];
  for (const control of controls) control.disabled = true;
  // Not replaced in time (the click was refused, or did not reach the bot): they work again.
  setTimeout(() => {
    for (const control of controls) if (control.isConnected) control.disabled = false;
  }, CLICK_SETTLE_MS);
  return send('/chat/click', { messageId, action, ...extra });
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
  const hadFocus = existing?.contains(document.activeElement);
  if (existing) existing.replaceWith(node);
  else if (message.threadId === null) threadOf(message.id).querySelector('.root').append(node);
  else threadOf(message.threadId).querySelector('.replies').append(node);
  showGuide();
  if (!existing) scrollToEnd();
  if (replaying) return;
  if (!existing) announce(node);
  if (!existing || hadFocus) focusPending();
}

/** Reads a new message out (once) through the live region. */
function announce(node) {
  const author = node.querySelector('.meta .author')?.textContent ?? '';
  announcer.replaceChildren(el('p', {}, `${author}: ${node.querySelector('.body')?.textContent ?? ''}`));
}

/** Moves keyboard focus to the newest thing that waits for this person: a question's suggested choice, or an approval's Approve button. */
function focusPending() {
  // Never away from what the person is typing.
  const active = document.activeElement;
  if (active instanceof HTMLInputElement && active.value !== '') return;
  if (active?.closest('.deny-form:not([hidden])')) return;
  const candidates = [...document.querySelectorAll('[data-needs-answer="me"] .actions [data-primary="true"]:not([disabled])')];
  candidates.at(-1)?.focus();
}

function showNote(note) {
  const node = el(
    'div',
    { class: 'note', id: `note-${note.id}`, 'data-testid': 'note' },
    el('div', { class: 'meta' }, el('span', { class: 'author' }, 'backup-setup'), `Only you can see this · ${time(note.at)}`),
    el('div', { class: 'body' }, ...markup(note.text)),
  );
  if (!replaying) announcer.replaceChildren(el('p', {}, `Only you: ${note.text}`));
  if (note.threadId === null) channelView.append(node);
  else threadOf(note.threadId).querySelector('.replies').append(node);
  scrollToEnd();
}

function showLocalProblem(text) {
  showNote({ id: `local-${Date.now()}`, threadId: null, text, at: new Date().toISOString() });
}

function scrollToEnd() {
  const scroller = channelView.parentElement;
  scroller.scrollTop = scroller.scrollHeight;
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
      'data-needs-answer': needsAnswer(message.reply),
    },
    el('div', { class: 'meta' }, el('span', { class: 'author' }, author), `${time(message.at)}${edited}`),
    el('div', { class: 'body' }, ...renderReply(message)),
  );
}

/** Whether the message waits for someone: "me" when this person may act on it, "other" when someone else must. */
function needsAnswer(reply) {
  if (reply.kind === 'question') return 'me';
  if (reply.kind !== 'approval') return '';
  return approvers().some((u) => u.id === me()) && reply.requester !== me() ? 'me' : 'other';
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
        el('div', { class: 'decided', 'data-testid': 'decided' }, ...markup(view.decision), ' — ', el('strong', {}, ...markup(reply.title))),
        // What was approved stays in the thread, folded away.
        reply.shown
          ? el('details', { 'data-testid': 'decided-details' }, el('summary', {}, 'What was ', reply.decision === 'approved' ? 'approved' : 'asked'),
              ...approvalBody('', message.stepTitle ?? reply.title, reply.shown, view.facts ?? []))
          : '',
        reply.again ? againButton(message.id, reply) : '',
      ];
    case 'answered':
      return [
        el('div', { class: 'question answered' }, ...markup(reply.prompt.text)),
        el('div', { class: 'meta', 'data-testid': 'answered' }, ...markup(view.answer)),
      ];
    case 'status':
      return renderStatus(message, reply);
    case 'reminder':
      return [el('div', { class: 'reminder', 'data-testid': 'reminder' }, ...markup(view.text))];
    case 'progress':
      return [el('div', { class: 'progress' }, '⏳ ', ...markup(reply.text))];
    case 'result':
      return [
        el('span', { class: `outcome outcome-${reply.outcome.outcome.replace(/ /g, '-')}`, 'data-testid': 'outcome' }, OUTCOME_LABEL[reply.outcome.outcome] ?? reply.outcome.outcome),
        ...markup(reply.outcome.detail),
      ];
    case 'done': {
      // The closing text leads with its own mark (✅ ❌ ⌛ 🛑) when it has one.
      const mark = /^\p{Extended_Pictographic}/u.test(reply.text) ? '' : reply.ok ? '✅ ' : '❌ ';
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

function againButton(messageId, reply) {
  const again = el('button', { type: 'button', 'data-testid': 'request-again', 'aria-label': `Request again: ${reply.title}` }, 'Request again');
  again.addEventListener('click', () => void click(messageId, 'again'));
  return el('div', { class: 'actions' }, again);
}

function renderStatus(message, reply) {
  const parts = [
    el('div', { class: 'status-title', 'data-testid': 'status-title' },
      `${reply.title} for `, el('code', {}, reply.clusterId), `, requested by ${nameOf(reply.requester)} at ${time(reply.startedAt)}.`),
    el('ul', { class: 'status-lines', 'data-testid': 'status' }, ...reply.lines.map((line) => el('li', {}, ...markup(line)))),
  ];
  if (reply.waitingOn.length > 0) {
    parts.push(el('div', { class: 'meta', 'data-testid': 'waiting-on' }, `Waiting on ${reply.waitingOn.map(nameOf).join(', ')}`));
  }
  if (reply.cancellable) {
    const what = `the ${reply.title.toLowerCase()} of ${reply.clusterId}`;
    const cancel = el('button', { type: 'button', 'data-testid': 'cancel-session', 'aria-label': `Cancel ${what}` }, 'Cancel setup');
    cancel.addEventListener('click', () => {
      if (confirm(`Cancel ${what}? It stops before its next change; what is done stays.`)) void click(message.id, 'cancel');
    });
    parts.push(el('div', { class: 'actions' }, cancel));
  }
  return parts;
}

function renderQuestion(messageId, prompt) {
  const parts = [el('div', { class: 'question' }, ...markup(prompt.text))];
  // A lone choice (a drift message's Fix) is no suggestion among others.
  const label = (choice, index) => (index === 0 && prompt.choices.length > 1 ? `${choice.label} (suggested)` : choice.label);
  if (prompt.choices.length > 5) {
    const select = el('select', { 'data-testid': 'choice-select', 'aria-label': 'Choices' },
      ...prompt.choices.map((choice, index) => el('option', { value: choice.value }, label(choice, index))));
    const answer = el('button', { type: 'button', 'data-testid': 'choice-submit', 'data-primary': 'true' }, 'Answer');
    answer.addEventListener('click', () => click(messageId, 'answer', { value: select.value }));
    parts.push(el('div', { class: 'actions' }, select, answer));
  } else if (prompt.choices.length > 0) {
    const buttons = prompt.choices.map((choice, index) => {
      const button = el('button', { type: 'button', 'data-testid': 'choice', 'data-value': choice.value, class: index === 0 ? 'suggested' : '', 'data-primary': index === 0 ? 'true' : '' }, label(choice, index));
      button.addEventListener('click', () => click(messageId, 'answer', { value: choice.value }));
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
  const plain = (message.stepTitle ?? reply.prompt.request.step).replace(/`/g, '');
  const approve = el('button', { type: 'button', 'data-testid': 'approve', 'data-primary': 'true', 'aria-label': `Approve: ${plain}` }, 'Approve');
  const deny = el('button', { type: 'button', 'data-testid': 'deny', 'aria-label': `Deny: ${plain}` }, 'Deny');
  approve.addEventListener('click', () => click(message.id, 'approve'));
  const actions = el('div', { class: 'actions' }, approve, deny);
  // Deny asks for an optional reason first; it is shown in the thread and kept in the audit log.
  const reason = el('input', { 'data-testid': 'deny-reason', 'aria-label': `Reason for denying ${plain} (optional)`, placeholder: 'Why? (optional; shown in the thread and the audit log)', maxlength: '500' });
  const confirmDeny = el('button', { type: 'submit', 'data-testid': 'deny-confirm' }, 'Deny');
  const back = el('button', { type: 'button', 'data-testid': 'deny-back' }, 'Back');
  const denyForm = el('form', { class: 'deny-form', hidden: 'hidden', autocomplete: 'off' }, reason, confirmDeny, back);
  deny.addEventListener('click', () => {
    denyForm.hidden = false;
    reason.focus();
  });
  back.addEventListener('click', () => {
    denyForm.hidden = true;
    deny.focus();
  });
  denyForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void click(message.id, 'deny', reason.value.trim() ? { reason: reason.value.trim() } : {});
  });
  // The requester cannot approve their own setup: the page says who can, and opens the page as them.
  const others = approvers().filter((u) => u.id !== reply.requester);
  const ask = reply.requester === me() && others.length > 0
    ? el('div', { class: 'hint', 'data-testid': 'ask-approver' },
        'You requested this setup, so another approver decides: ',
        ...others.flatMap((u, i) => [i ? ', ' : '', el('a', { href: `?user=${encodeURIComponent(u.id)}#message-${message.id}`, target: '_blank', rel: 'noopener', 'data-testid': 'ask-approver-link' }, `open this page as ${u.name}`)]),
        '.')
    : '';

  return [
    el('div', { class: 'approval', 'data-testid': 'approval' },
      ...approvalBody('🔐 Approval needed: ', message.stepTitle ?? reply.prompt.request.step, reply, view.facts ?? []),
      actions,
      denyForm,
      ask),
  ];
}

// ---- text --------------------------------------------------------------------------------------

/** The bot's inline marks as DOM nodes: code spans, people by display name, times in local time, links, line breaks. */
function markup(value) {
  const nodes = [];
  for (const span of spans(String(value ?? ''))) {
    if (span.kind === 'code') nodes.push(el('code', {}, span.text));
    else if (span.kind === 'pre') nodes.push(el('pre', {}, span.text));
    else if (span.kind === 'person') nodes.push(el('span', { class: 'person' }, nameOf(span.id)));
    else if (span.kind === 'time') nodes.push(el('time', { datetime: span.iso }, time(span.iso)));
    else if (span.kind === 'link') nodes.push(link(span.url, span.label));
    else span.text.split('\n').forEach((line, i) => nodes.push(...(i ? [el('br', {})] : []), ...(line ? [document.createTextNode(line)] : [])));
  }
  return nodes;
}

function link(href, label) {
  return el('a', { href, target: '_blank', rel: 'noopener noreferrer' }, label);
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

// ---- the empty channel: a guide for a newcomer ---------------------------------------------------

function showGuide() {
  guide.hidden = channelView.querySelector('.thread') !== null;
  if (guide.dataset.built) return;
  guide.dataset.built = 'true';
  const approverNames = approvers().map((u) => u.name);
  const list = el('ul', { 'data-testid': 'guide-clusters' }, ...clusters.map((c) => {
    const command = `/backup-setup ${c.id}`;
    const start = el('button', { type: 'button', 'data-testid': 'guide-start', 'data-cluster': c.id, 'aria-label': `Type ${command} in the composer` }, 'Try it');
    start.addEventListener('click', () => {
      composer.value = command;
      composer.focus();
    });
    return el('li', {}, el('code', {}, c.id), ` — ${c.shows} `, start);
  }));
  guide.append(
    el('h2', {}, 'Welcome to the backup-setup sandbox'),
    el('p', {}, 'Everything here runs against an emulated Alibaba Cloud account: nothing real changes. Start a setup by typing ',
      el('code', {}, '/backup-setup <cluster-id>'), ' below (', el('code', {}, '/backup-setup help'), ' lists every command). The seeded clusters:'),
    list,
    el('p', { 'data-testid': 'guide-people' },
      'The person who starts a setup (or an approver) answers its questions; every change waits for an approver ',
      `(${approverNames.join(', ') || 'none configured'}), who cannot approve a setup they requested. `,
      'Switch identity with the “You are” menu at the top, or open this page in a second tab as another person (',
      el('code', {}, '?user=web:approver'), ').'),
  );
}

connect();
