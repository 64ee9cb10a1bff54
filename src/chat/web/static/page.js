// The sandbox chat page: renders the channel streamed from /chat/events and posts what people do.
// Everything is built from DOM nodes and text nodes, never parsed as HTML: the bot echoes user input.

const users = JSON.parse(document.getElementById('users').textContent);
const channelView = document.getElementById('channel');
const identity = document.getElementById('identity');
const connection = document.getElementById('connection');
const composerForm = document.getElementById('composer-form');
const composer = document.getElementById('composer');

const STORED_IDENTITY = 'backup-setup-sandbox-identity';
const OUTCOME_LABEL = { created: 'created', updated: 'updated', 'already present': 'already present' };
const DECISION_MARK = { approved: '✅ Approved', denied: '❌ Denied', expired: '⌛ Expired', closed: '🔒 Closed' };

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
  switch (reply.kind) {
    case 'text':
    case 'help':
      return markup(reply.text);
    case 'plan':
      return [el('strong', {}, ...markup(reply.title)), el('ul', {}, ...reply.lines.map((line) => el('li', {}, ...markup(line))))];
    case 'question':
      return renderQuestion(message.id, reply.prompt);
    case 'approval':
      return renderApproval(message, reply);
    case 'decided':
      return [
        el('div', { class: 'decided', 'data-testid': 'decided' }, `${DECISION_MARK[reply.decision] ?? reply.decision}: `, ...markup(reply.title)),
        el('div', { class: 'meta' }, reply.decision === 'expired' || reply.decision === 'closed' ? `at ${time(reply.at)}` : `by ${reply.by} at ${time(reply.at)}`),
        reply.reason ? el('div', { class: 'meta' }, ...markup(reply.reason)) : '',
      ];
    case 'answered':
      return [
        el('div', { class: 'question answered' }, ...markup(reply.prompt.text)),
        el('div', { class: 'meta', 'data-testid': 'answered' },
          reply.answer ? `✔️ ${reply.answer.by} chose ${reply.answer.label}` : `🔒 Closed without an answer${reply.reason ? `: ${reply.reason}` : ''}`),
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
        reply.correlationId ? el('div', { class: 'meta', 'data-testid': 'correlation-id' }, `correlation id ${reply.correlationId}`) : '',
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

function renderApproval(message, reply) {
  const { request, preview } = reply.prompt;
  const { document: policy, ...params } = request.params;
  const details = el('dl', {});
  const row = (name, ...value) => details.append(el('dt', {}, name), el('dd', {}, ...value));
  for (const [name, value] of Object.entries(params)) row(name, el('code', {}, value === null ? '(none)' : String(value)));
  row('risk', el('span', { class: `risk-${reply.risk}`, 'data-testid': 'risk' }, reply.risk));
  row('APIs', ...reply.apis.flatMap((api, index) => [index ? ', ' : '', el('code', {}, api)]));
  row('expires', time(reply.expiresAt));
  row('requested by', reply.requester);

  const approve = el('button', { type: 'button', 'data-testid': 'approve' }, 'Approve');
  const deny = el('button', { type: 'button', 'data-testid': 'deny' }, 'Deny');
  approve.addEventListener('click', () => click(message.id, 'approve'));
  deny.addEventListener('click', () => click(message.id, 'deny'));

  return [
    el('div', { class: 'approval', 'data-testid': 'approval' },
      el('h3', {}, '🔐 Approval needed: ', ...markup(message.stepTitle ?? request.step)),
      el('div', {}, 'What will change:'),
      el('ul', { 'data-testid': 'changes' }, ...preview.changes.map((change) => el('li', {}, ...markup(change)))),
      policy ? el('pre', { 'data-testid': 'policy-document' }, JSON.stringify(policy, null, 2)) : '',
      details,
      el('div', { class: 'actions' }, approve, deny)),
  ];
}

// ---- text --------------------------------------------------------------------------------------

/** Slack-like markup as DOM nodes: `code`, *bold*, line breaks. */
function markup(value) {
  const text = String(value);
  const nodes = [];
  const pattern = /`([^`\n]+)`|\*([^*\n]+)\*|\n/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) nodes.push(document.createTextNode(text.slice(last, match.index)));
    if (match[1] !== undefined) nodes.push(el('code', {}, match[1]));
    else if (match[2] !== undefined) nodes.push(el('strong', {}, match[2]));
    else nodes.push(el('br', {}));
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
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
