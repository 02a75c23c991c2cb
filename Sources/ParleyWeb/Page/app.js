// Parley agent desktop. Plain JavaScript, no framework, no request leaves the gateway.
//
// The page talks to parley-web over one WebSocket, in parleyd's own protocol: requests
// {id, method, params}, answers {id, result | error}, notifications {method, params}. It keeps
// the log position of the last event it applied; after a drop it reconnects and subscribes again
// after that position, so nothing is missed or shown twice. Applying an event is idempotent
// (messages are keyed by id, a status only moves forward, the badge is the daemon's count), so
// an event that is seen both in a query's answer and on the subscription changes nothing twice.
// Commands carry an idempotency key made when the agent acted; a command unanswered when the
// socket dropped is sent again with the same key, and the daemon applies it once.
"use strict";

const $ = (id) => document.getElementById(id);
const STATUS_RANK = { queued: 0, sent: 1, delivered: 2, undelivered: 2, failed: 2 };
const STATUS_LABEL = { queued: "Queued", sent: "Sent", delivered: "Delivered", undelivered: "Undelivered", failed: "Failed" };
const STATE_LABEL = { Ready: "Ready", NotReady: "Not Ready", Busy: "Busy", AfterCallWork: "After Call Work", LoggedOut: "Logged Out" };
const COMMANDS = new Set(["agent.login", "agent.logout", "agent.setState", "sms.send", "chat.accept", "chat.end", "recent.markRead"]);

const desk = {
  agentId: null,
  agent: null,
  services: new Map(),
  templates: [],
  settings: { smsCounterEnabled: true, maxSegments: 10 },
  conversations: new Map(), // conversationId (or a draft id) -> conversation
  requests: new Map(),      // conversationId -> chat request
  active: null,
  unread: 0,
  recentOpen: false,
  cursor: null,             // position of the last event applied
  loaded: false,
};

// ---------------------------------------------------------------- the socket

const rpc = {
  socket: null,
  nextId: 1,
  pending: new Map(), // id -> {method, params, resolve, reject}
  retry: 500,
  subscription: null,
};

function connect() {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const socket = new WebSocket(scheme + location.host + "/ws");
  rpc.socket = socket;
  setConnection("Connecting…");
  socket.onopen = () => {
    rpc.retry = 500;
    setConnection("Connected");
    for (const [id, request] of rpc.pending) transmit(id, request);
    start().catch(showFailure);
  };
  socket.onmessage = (event) => receive(event.data);
  socket.onclose = (event) => {
    if (rpc.socket !== socket) return;
    rpc.socket = null;
    rpc.subscription = null;
    // Queries are asked again by start(); commands wait and go again with their key.
    for (const [id, request] of rpc.pending) {
      if (!COMMANDS.has(request.method)) { rpc.pending.delete(id); request.reject(lost()); }
    }
    if (event.code === 4001) return signedOut();
    setConnection("Reconnecting…");
    setTimeout(() => { if (desk.agentId && !rpc.socket) connect(); }, rpc.retry);
    rpc.retry = Math.min(rpc.retry * 2, 5000);
  };
}

function lost() { return Object.assign(new Error("The connection dropped."), { type: "ConnectionLost" }); }

function call(method, params = {}) {
  if (COMMANDS.has(method) && !params.idempotencyKey) params = { ...params, idempotencyKey: newKey() };
  return new Promise((resolve, reject) => {
    const id = rpc.nextId++;
    const request = { method, params, resolve, reject };
    rpc.pending.set(id, request);
    if (rpc.socket && rpc.socket.readyState === WebSocket.OPEN) transmit(id, request);
  });
}

function transmit(id, request) {
  rpc.socket.send(JSON.stringify({ id, method: request.method, params: request.params }));
}

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function receive(text) {
  let message;
  try { message = JSON.parse(text); } catch { return; }
  if (message.id !== undefined && message.id !== null) {
    const request = rpc.pending.get(message.id);
    if (!request) return;
    rpc.pending.delete(message.id);
    if (message.error) {
      const data = message.error.data || {};
      request.reject(Object.assign(new Error(message.error.message), { type: data.type, field: data.field }));
    } else {
      request.resolve(message.result);
    }
    return;
  }
  const params = message.params || {};
  if (rpc.subscription && params.subscription !== rpc.subscription) return;
  switch (message.method) {
    case "events.event":
      apply(params.event, params.unread);
      advance(params.position);
      break;
    case "events.checkpoint":
    case "events.caughtUp":
      advance(params.position);
      break;
    case "events.end":
      advance(params.resumeAfter);
      rpc.subscription = null;
      if (params.reason !== "unsubscribed") subscribe().catch(showFailure);
      break;
  }
}

function advance(position) {
  if (typeof position === "number" && (desk.cursor === null || position > desk.cursor)) desk.cursor = position;
}

// ---------------------------------------------------------------- start and resume

async function start() {
  if (!desk.loaded) {
    const [view, directory, recent] = await Promise.all([
      call("agent.view"), call("directory.list"), call("recent.get", { limit: 1 }),
    ]);
    loadDirectory(directory);
    desk.agent = view.agent;
    renderAgent();
    for (const chat of view.openChats || []) ensureConversation(chat);
    for (const request of view.pendingRequests || []) addRequest(request);
    setUnread(view.unread ?? recent.unread ?? 0);
    // Every later change arrives as an event after the oldest of these snapshots.
    desk.cursor = Math.min(view.asOf, directory.asOf, recent.asOf);
    desk.loaded = true;
    for (const conversation of desk.conversations.values()) loadTranscript(conversation);
    if (desk.agent.state === "LoggedOut") await changeState("NotReady", true);
  }
  await subscribe();
}

async function subscribe() {
  if (!rpc.socket) return;
  const answer = await call("events.subscribe", { after: desk.cursor });
  rpc.subscription = answer.subscription;
}

// ---------------------------------------------------------------- events

function apply(event, unread) {
  if (typeof unread === "number") setUnread(unread);
  const data = event.data || {};
  switch (event.type) {
    case "AgentLoggedIn":
    case "AgentStateChanged":
    case "AgentLoggedOut":
      if (data.agentId !== desk.agentId) break;
      desk.agent.state = event.type === "AgentLoggedOut" ? "LoggedOut" : data.state;
      desk.agent.call = data.call;
      renderAgent();
      break;
    case "ConversationOpened":
      if (data.agentId === desk.agentId) {
        ensureConversation({ ...data, status: "open", openedAt: event.timestamp });
      } else if (!data.agentId && data.origin === "customer") {
        addRequest({ ...data, status: "pending", openedAt: event.timestamp });
      }
      break;
    case "ChatAccepted": {
      const request = desk.requests.get(data.conversationId);
      removeRequest(data.conversationId);
      if (data.agentId === desk.agentId) {
        const conversation = ensureConversation({ ...(request || {}), conversationId: data.conversationId, agentId: data.agentId, status: "open" });
        loadTranscript(conversation);
        activate(conversation.id);
      } else if (request) {
        announce(`Another agent accepted the chat request from ${request.customerNumber}.`);
      }
      break;
    }
    case "MessageSent":
      addMessage(data.conversationId, {
        messageId: data.messageId, direction: "outbound", text: data.text, timestamp: event.timestamp,
        status: "queued", position: event.position, agentId: data.agentId,
      });
      break;
    case "SystemMessageSent":
      addMessage(data.conversationId, {
        messageId: data.messageId, direction: "outbound", text: data.text, timestamp: event.timestamp,
        status: "queued", position: event.position,
      });
      break;
    case "CustomerOptedOut":
    case "CustomerOptedIn": {
      const conversation = desk.conversations.get(data.conversationId);
      if (conversation) setOptedOut(conversation, event.type === "CustomerOptedOut");
      break;
    }
    case "PartReported":
      setPart(data.conversationId, data.messageId, data.part, data.status);
      break;
    case "InboundReceived": {
      const message = { messageId: data.messageId, direction: "inbound", text: data.text, timestamp: event.timestamp, position: event.position };
      const request = desk.requests.get(data.conversationId);
      if (request) {
        request.preview = data.text;
        renderRequests();
        announce(`Chat request from ${request.customerNumber}: ${data.text}`);
      } else if (desk.conversations.has(data.conversationId)) {
        addMessage(data.conversationId, message);
        announce(`New message from ${data.from}: ${data.text}`);
      }
      break;
    }
    case "DeliveryReported":
      setStatus(data.conversationId, data.messageId, data.status);
      break;
    case "ChatEnded": {
      removeRequest(data.conversationId);
      const conversation = desk.conversations.get(data.conversationId);
      if (conversation) closeConversation(conversation);
      break;
    }
    case "AgentConfigured":
    case "ServiceConfigured":
    case "TemplateConfigured":
    case "SettingsConfigured":
      call("directory.list").then(loadDirectory).catch(() => {});
      break;
  }
}

// ---------------------------------------------------------------- the agent and the directory

function loadDirectory(directory) {
  desk.services = new Map((directory.services || []).map((s) => [s.serviceId, s]));
  desk.templates = directory.templates || [];
  desk.settings = directory.settings || desk.settings;
  const me = (directory.agents || []).find((a) => a.agentId === desk.agentId);
  if (me && desk.agent) desk.agent = { ...desk.agent, services: me.services, smsAllowed: me.smsAllowed, did: me.did };
  renderServices();
  for (const conversation of desk.conversations.values()) renderTemplates(conversation);
}

function smsServices() {
  const mine = (desk.agent && desk.agent.services) || [];
  return mine.map((id) => desk.services.get(id)).filter((s) => s && s.smsEnabled && s.smsNumber);
}

function renderServices() {
  const select = $("service-select");
  const current = select.value;
  select.replaceChildren(...smsServices().map((s) => new Option(s.name, s.serviceId)));
  if ([...select.options].some((o) => o.value === current)) select.value = current;
  const none = select.options.length === 0;
  select.disabled = none;
  $("send-sms-button").disabled = none || desk.agent?.smsAllowed === false;
  if (none) select.replaceChildren(new Option("No service with SMS", ""));
}

function renderAgent() {
  const agent = desk.agent;
  $("agent-name").textContent = agent.displayName || agent.agentId;
  const select = $("state-select");
  let loggedOut = select.querySelector('option[value="LoggedOut"]');
  if (agent.state === "LoggedOut" && !loggedOut) {
    loggedOut = new Option("Logged Out", "LoggedOut");
    loggedOut.disabled = true;
    select.add(loggedOut);
  } else if (agent.state !== "LoggedOut" && loggedOut) {
    loggedOut.remove();
  }
  select.value = agent.state;
  const onCall = (agent.state === "Busy" || agent.state === "AfterCallWork") && agent.call;
  $("call-panel").hidden = !onCall;
  if (onCall) {
    const service = desk.services.get(agent.call.serviceId);
    $("call-customer").textContent = agent.call.customerNumber;
    $("call-service").textContent = `${STATE_LABEL[agent.state]} · ${service ? service.name : agent.call.serviceId}`;
    $("call-sms").hidden = !(service && service.smsEnabled && service.smsNumber) || agent.smsAllowed === false;
    $("call-sms").setAttribute("aria-label", `Send SMS to ${agent.call.customerNumber}`);
  }
  renderServices();
}

async function changeState(state, quiet) {
  try {
    const answer = desk.agent.state === "LoggedOut"
      ? await call("agent.login", { state })
      : await call("agent.setState", { state });
    desk.agent.state = answer.state;
    renderAgent();
    if (!quiet) announce(`You are ${STATE_LABEL[answer.state]}.`);
  } catch (error) {
    renderAgent();
    announce(`The state did not change: ${error.message}`);
  }
}

function setUnread(count) {
  desk.unread = count;
  const badge = $("recent-badge");
  badge.hidden = count === 0;
  badge.textContent = String(count);
  $("recent-button").setAttribute("aria-label", count === 0 ? "Recent" : `Recent, ${count} unread`);
  if (count > 0 && !desk.recentOpen) announce(`${count} unread in Recent.`);
  if (desk.recentOpen && count > 0) markRecentRead();
}

// ---------------------------------------------------------------- chat requests

function addRequest(record) {
  if (desk.conversations.has(record.conversationId)) return;
  desk.requests.set(record.conversationId, { ...desk.requests.get(record.conversationId), ...record });
  renderRequests();
  if (!record.preview) {
    call("conversation.get", { conversationId: record.conversationId, limit: 1 }).then((answer) => {
      const request = desk.requests.get(record.conversationId);
      const first = (answer.messages || [])[0];
      if (request && first && !request.preview) { request.preview = first.text; renderRequests(); }
    }).catch(() => {});
  }
}

function removeRequest(id) {
  if (desk.requests.delete(id)) renderRequests();
}

function renderRequests() {
  const list = $("request-list");
  list.replaceChildren(...[...desk.requests.values()].map((request) => {
    const item = document.createElement("li");
    item.dataset.conversationId = request.conversationId;
    const who = document.createElement("p");
    const service = desk.services.get(request.serviceId);
    who.innerHTML = "";
    const number = document.createElement("span");
    number.className = "number";
    number.textContent = request.customerNumber;
    who.append(number, ` · ${service ? service.name : request.serviceId || ""}`);
    const preview = document.createElement("p");
    preview.className = "muted";
    preview.textContent = request.preview || "";
    const accept = document.createElement("button");
    accept.type = "button";
    accept.className = "accept";
    accept.textContent = "Accept";
    accept.setAttribute("aria-label", `Accept the chat request from ${request.customerNumber}`);
    accept.addEventListener("click", () => acceptRequest(request.conversationId, accept));
    item.append(who, preview, accept);
    return item;
  }));
  $("no-requests").hidden = desk.requests.size > 0;
}

async function acceptRequest(conversationId, button) {
  button.disabled = true;
  try {
    await call("chat.accept", { conversationId });
  } catch (error) {
    if (error.type === "ChatAlreadyAccepted") {
      removeRequest(conversationId);
      announce("Another agent accepted this chat first.");
    } else {
      button.disabled = false;
      announce(`The chat was not accepted: ${error.message}`);
    }
  }
}

// ---------------------------------------------------------------- conversations

function ensureConversation(record) {
  const id = record.conversationId;
  let conversation = desk.conversations.get(id);
  if (!conversation) {
    conversation = { id, record: {}, messages: new Map(), element: null, ended: false, unseen: false };
    desk.conversations.set(id, conversation);
    removeRequest(id);
    conversation.element = buildConversation(conversation);
    $("conversations").append(conversation.element);
    if (!desk.active) activate(id);
  }
  conversation.record = { ...conversation.record, ...record };
  renderHead(conversation);
  renderConversationList();
  return conversation;
}

async function loadTranscript(conversation) {
  let after = 0;
  for (;;) {
    let answer;
    try {
      answer = await call("conversation.get", { conversationId: conversation.id, after, limit: 200 });
    } catch { return; }
    conversation.record = { ...conversation.record, ...answer.conversation };
    renderHead(conversation);
    setOptedOut(conversation, answer.customerOptedOut === true);
    for (const message of answer.messages || []) addMessage(conversation.id, message, true);
    if (answer.conversation && answer.conversation.status === "ended") closeConversation(conversation);
    if (!answer.messages || answer.messages.length === 0) return;
    after = answer.next;
  }
}

function buildConversation(conversation) {
  const element = $("conversation-template").content.firstElementChild.cloneNode(true);
  element.dataset.conversationId = conversation.id;
  element.hidden = true;
  const key = conversation.id.replace(/[^A-Za-z0-9_-]/g, "_");
  const textarea = element.querySelector("textarea");
  textarea.id = `text-${key}`;
  const picker = element.querySelector(".template-picker");
  picker.id = `templates-${key}`;
  const title = element.querySelector(".conversation-title");
  title.id = `title-${key}`;
  element.setAttribute("aria-labelledby", title.id);
  element.querySelector(".transcript").setAttribute("aria-label", "Transcript");
  textarea.addEventListener("input", () => updateCounter(conversation));
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendMessage(conversation);
    }
  });
  element.querySelector(".composer").addEventListener("submit", (event) => {
    event.preventDefault();
    sendMessage(conversation);
  });
  picker.addEventListener("change", () => {
    const template = desk.templates.find((t) => t.templateId === picker.value);
    picker.value = "";
    if (!template) return;
    const start = textarea.selectionStart ?? textarea.value.length;
    const end = textarea.selectionEnd ?? start;
    textarea.value = textarea.value.slice(0, start) + template.text + textarea.value.slice(end);
    textarea.focus();
    textarea.setSelectionRange(start + template.text.length, start + template.text.length);
    updateCounter(conversation);
  });
  element.querySelector(".end-chat").addEventListener("click", () => endChat(conversation));
  renderTemplates(conversation, element);
  return element;
}

function renderTemplates(conversation, element = conversation.element) {
  const picker = element.querySelector(".template-picker");
  const service = conversation.record.serviceId;
  const usable = desk.templates.filter((t) => !t.services || t.services.length === 0 || t.services.includes(service));
  picker.replaceChildren(new Option("Insert a predefined message…", ""), ...usable.map((t) => new Option(t.title, t.templateId)));
  picker.disabled = usable.length === 0 || conversation.ended;
}

function renderHead(conversation) {
  const record = conversation.record;
  const element = conversation.element;
  element.querySelector(".conversation-title").textContent = record.customerNumber || "";
  element.querySelector("textarea").setAttribute("aria-label", `Message to ${record.customerNumber || "the customer"}`);
  element.querySelector(".template-picker").setAttribute("aria-label", "Insert a predefined message");
  const service = desk.services.get(record.serviceId);
  const kind = record.kind === "did" ? "Your number" : service ? service.name : record.serviceId || "";
  element.querySelector(".conversation-meta").textContent = conversation.draft ? `${kind} · new conversation` : kind;
  element.querySelector(".end-chat").hidden = conversation.draft || conversation.ended;
  element.querySelector(".end-chat").setAttribute("aria-label", `End the chat with ${record.customerNumber || ""}`);
  renderTemplates(conversation);
}

function renderConversationList() {
  const open = [...desk.conversations.values()].filter((c) => !c.ended);
  $("conversation-list").replaceChildren(...open.map((conversation) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.conversationId = conversation.id;
    const label = document.createElement("span");
    label.textContent = conversation.record.customerNumber || conversation.id;
    button.append(label);
    if (conversation.unseen) {
      const dot = document.createElement("span");
      dot.className = "dot";
      dot.setAttribute("aria-hidden", "true");
      button.append(dot);
    }
    const service = desk.services.get(conversation.record.serviceId);
    button.setAttribute("aria-label", `${conversation.record.customerNumber || ""}${service ? ", " + service.name : ""}${conversation.unseen ? ", new messages" : ""}`);
    button.setAttribute("aria-current", String(conversation.id === desk.active));
    button.addEventListener("click", () => activate(conversation.id, true));
    item.append(button);
    return item;
  }));
  $("no-conversations").hidden = open.length > 0;
  $("workspace-empty").hidden = open.length > 0;
}

function activate(id, focus) {
  desk.active = id;
  for (const conversation of desk.conversations.values()) {
    conversation.element.hidden = conversation.id !== id || conversation.ended;
    if (conversation.id === id) conversation.unseen = false;
  }
  renderConversationList();
  const conversation = desk.conversations.get(id);
  if (conversation) {
    const transcript = conversation.element.querySelector(".transcript");
    transcript.scrollTop = transcript.scrollHeight;
    if (focus) conversation.element.querySelector("textarea").focus();
  }
}

function addMessage(conversationId, message, fromQuery) {
  const conversation = desk.conversations.get(conversationId);
  if (!conversation) return;
  const known = conversation.messages.get(message.messageId);
  if (known) {
    if (message.status) setStatus(conversationId, message.messageId, message.status);
    return;
  }
  const entry = {
    ...message, status: message.direction === "outbound" ? message.status || "queued" : undefined,
    parts: new Map((message.parts || []).map((part) => [part.part, part.status])),
  };
  conversation.messages.set(message.messageId, entry);
  const item = document.createElement("li");
  item.className = `message ${message.direction}`;
  item.dataset.messageId = message.messageId;
  const text = document.createElement("p");
  text.textContent = message.text;
  const footer = document.createElement("footer");
  const time = document.createElement("time");
  const when = new Date(message.timestamp);
  time.dateTime = when.toISOString();
  time.textContent = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  time.title = when.toLocaleString();
  const who = document.createElement("span");
  // An outbound message with no agent is the daemon's own (the answer to HELP, a confirmation).
  const automatic = message.direction === "outbound" && !message.agentId;
  who.textContent = message.direction === "inbound" ? conversation.record.customerNumber || "Customer"
    : automatic ? "Automatic reply" : "You";
  if (automatic) item.classList.add("automatic");
  footer.append(who, time);
  if (message.direction === "outbound") {
    const status = document.createElement("span");
    status.className = "status";
    const parts = document.createElement("span");
    parts.className = "parts muted";
    footer.append(status, parts);
  }
  item.append(text, footer);
  entry.element = item;
  // Keep the transcript in log order, whichever way a message arrived.
  const transcript = conversation.element.querySelector(".transcript");
  const later = [...transcript.children].find((li) => {
    const other = conversation.messages.get(li.dataset.messageId);
    return other && other.position > (message.position ?? Infinity);
  });
  transcript.insertBefore(item, later || null);
  renderStatus(entry);
  transcript.scrollTop = transcript.scrollHeight;
  if (!fromQuery && conversation.id !== desk.active && message.direction === "inbound") {
    conversation.unseen = true;
    renderConversationList();
  }
}

function setStatus(conversationId, messageId, status) {
  const entry = desk.conversations.get(conversationId)?.messages.get(messageId);
  if (!entry || entry.direction !== "outbound") return;
  // A status never moves backwards: a late or repeated report changes nothing.
  if ((STATUS_RANK[status] ?? -1) <= (STATUS_RANK[entry.status] ?? -1)) return;
  entry.status = status;
  renderStatus(entry);
  if (status !== "sent") announce(`Message ${STATUS_LABEL[status].toLowerCase()}.`);
}

function renderStatus(entry) {
  const status = entry.element.querySelector(".status");
  if (!status) return;
  status.textContent = STATUS_LABEL[entry.status] || entry.status;
  status.className = `status status-${entry.status}`;
  // A message sent in parts: each part's status, in order, while they differ from the message's.
  const parts = entry.element.querySelector(".parts");
  const reported = [...entry.parts.entries()].sort((a, b) => a[0] - b[0]);
  const differ = reported.some(([, s]) => s !== entry.status);
  parts.textContent = differ
    ? `parts: ${reported.map(([n, s]) => `${n} ${(STATUS_LABEL[s] || s).toLowerCase()}`).join(", ")}` : "";
}

function setPart(conversationId, messageId, part, status) {
  const entry = desk.conversations.get(conversationId)?.messages.get(messageId);
  if (!entry || entry.direction !== "outbound") return;
  if ((STATUS_RANK[status] ?? -1) <= (STATUS_RANK[entry.parts.get(part)] ?? -1)) return;
  entry.parts.set(part, status);
  renderStatus(entry);
}

// A customer who texted STOP to this conversation's number cannot be texted from it until
// they text START: the daemon refuses the send; the page says why and disables the composer.
function setOptedOut(conversation, optedOut) {
  conversation.optedOut = optedOut;
  const banner = conversation.element.querySelector(".opted-out");
  banner.hidden = !optedOut;
  banner.textContent = optedOut
    ? `${conversation.record.customerNumber || "The customer"} texted STOP: they cannot be texted from this number until they text START.`
    : "";
  if (conversation.ended) return;
  conversation.element.querySelector("textarea").disabled = optedOut;
  conversation.element.querySelector(".send").disabled = optedOut;
  conversation.element.querySelector(".template-picker").disabled = optedOut;
}

function closeConversation(conversation) {
  if (conversation.ended) return;
  conversation.ended = true;
  conversation.element.querySelector("textarea").disabled = true;
  conversation.element.querySelector(".send").disabled = true;
  conversation.element.querySelector(".template-picker").disabled = true;
  conversation.element.hidden = true;
  announce(`The chat with ${conversation.record.customerNumber} ended.`);
  if (desk.active === conversation.id) {
    const next = [...desk.conversations.values()].find((c) => !c.ended);
    desk.active = null;
    if (next) activate(next.id);
  }
  renderHead(conversation);
  renderConversationList();
}

async function endChat(conversation) {
  const button = conversation.element.querySelector(".end-chat");
  button.disabled = true;
  try {
    await call("chat.end", { conversationId: conversation.id });
    closeConversation(conversation);
    $("customer-number").focus();
  } catch (error) {
    button.disabled = false;
    showComposerError(conversation, error.message);
  }
}

// ---------------------------------------------------------------- sending

/** A mobile number as the daemon takes it: E.164, spaces, dots, dashes and brackets removed. */
function normaliseNumber(text) {
  const compact = text.trim().replace(/[\s().-]/g, "");
  return /^\+[1-9][0-9]{6,14}$/.test(compact) ? compact : null;
}

function openDraft(serviceId, customerNumber) {
  const existing = [...desk.conversations.values()].find((c) => !c.ended &&
    c.record.customerNumber === customerNumber && c.record.serviceId === serviceId);
  if (existing) return activate(existing.id, true);
  const id = `draft:${serviceId}:${customerNumber}`;
  const conversation = ensureConversation({ conversationId: id, serviceId, customerNumber, kind: "service", status: "draft" });
  conversation.draft = true;
  renderHead(conversation);
  activate(id, true);
}

async function sendMessage(conversation) {
  const textarea = conversation.element.querySelector("textarea");
  const button = conversation.element.querySelector(".send");
  const text = textarea.value;
  if (text.trim() === "" || conversation.ended || button.disabled) return;
  showComposerError(conversation, "");
  const params = conversation.draft
    ? { serviceId: conversation.record.serviceId, customerNumber: conversation.record.customerNumber, text }
    : { conversationId: conversation.id, text };
  button.disabled = true;
  try {
    const answer = await call("sms.send", params);
    textarea.value = "";
    updateCounter(conversation);
    if (conversation.draft) promoteDraft(conversation, answer.conversationId);
  } catch (error) {
    showComposerError(conversation, error.message);
    if (error.type === "InvalidNumber") $("number-error").textContent = error.message;
  } finally {
    button.disabled = conversation.ended;
    textarea.focus();
  }
}

/** The first message of a new conversation came back with its id: the draft becomes it. */
function promoteDraft(draft, conversationId) {
  desk.conversations.delete(draft.id);
  const real = desk.conversations.get(conversationId);
  if (real) {
    // The event arrived first and built the conversation: keep that one.
    draft.element.remove();
    activate(conversationId, true);
  } else {
    draft.id = conversationId;
    draft.draft = false;
    draft.element.dataset.conversationId = conversationId;
    desk.conversations.set(conversationId, draft);
    renderHead(draft);
    loadTranscript(draft);
    activate(conversationId, true);
  }
  renderConversationList();
}

function showComposerError(conversation, text) {
  conversation.element.querySelector(".composer-error").textContent = text;
}

// The counter is the daemon's own (sms.count), so the page and the daemon never disagree.
const counting = new WeakMap();
async function updateCounter(conversation) {
  const element = conversation.element;
  const counter = element.querySelector(".counter");
  const note = element.querySelector(".counter-note");
  const text = element.querySelector("textarea").value;
  const ticket = (counting.get(conversation) || 0) + 1;
  counting.set(conversation, ticket);
  if (text === "") {
    counter.textContent = desk.settings.smsCounterEnabled === false ? "" : "0";
    counter.hidden = desk.settings.smsCounterEnabled === false;
    note.textContent = "";
    return;
  }
  let count;
  try { count = await call("sms.count", { text }); } catch { return; }
  if (counting.get(conversation) !== ticket) return; // a newer keystroke is being counted
  counter.hidden = !count.counterEnabled;
  counter.textContent = count.display;
  counter.classList.toggle("over", !count.withinLimit);
  const parts = [];
  if (count.counterEnabled && count.encoding === "UCS-2" && count.nonGsm && count.nonGsm.length) {
    parts.push(`Unicode (70 per message) because of ${count.nonGsm.join(" ")}`);
  }
  if (!count.withinLimit) parts.push(`Longer than ${count.maxSegments} messages: shorten it to send.`);
  note.textContent = parts.join(" · ");
}

// ---------------------------------------------------------------- Recent

async function openRecent() {
  desk.recentOpen = !desk.recentOpen;
  $("recent-panel").hidden = !desk.recentOpen;
  $("recent-button").setAttribute("aria-expanded", String(desk.recentOpen));
  if (!desk.recentOpen) return;
  await renderRecent();
  $("recent-close").focus();
  await markRecentRead();
}

async function renderRecent() {
  const answer = await call("recent.get", { limit: 50 });
  desk.recentTop = (answer.items || [])[0]?.position;
  $("recent-list").replaceChildren(...(answer.items || []).map((item) => {
    const li = document.createElement("li");
    if (item.unread) li.className = "unread";
    const head = document.createElement("p");
    const when = new Date(item.message.timestamp);
    head.textContent = `${item.message.from} · ${when.toLocaleString()}`;
    const text = document.createElement("p");
    text.textContent = item.message.text;
    li.append(head, text);
    return li;
  }));
  $("no-recent").hidden = (answer.items || []).length > 0;
}

async function markRecentRead() {
  if (desk.unread === 0 && desk.recentTop === undefined) return;
  try {
    const answer = await call("recent.get", { limit: 1 });
    const top = (answer.items || [])[0]?.position;
    if (top !== undefined && answer.unread > 0) {
      await call("recent.markRead", { upTo: top });
      setUnread(0);
      await renderRecent();
    }
  } catch (error) {
    announce(`Recent could not be marked read: ${error.message}`);
  }
}

// ---------------------------------------------------------------- sign-in

async function signIn(event) {
  event.preventDefault();
  const agentId = $("agent-id").value.trim();
  const password = $("password").value;
  const error = $("sign-in-error");
  error.textContent = "";
  if (!agentId || !password) { error.textContent = "Enter your agent ID and password."; return; }
  $("sign-in-button").disabled = true;
  try {
    const response = await fetch("/api/login", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ agentId, password }),
      credentials: "same-origin",
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      error.textContent = body.error?.message || `Sign-in failed (${response.status}).`;
      $("password").select();
      return;
    }
    $("password").value = "";
    signedIn(body.agentId);
  } catch {
    error.textContent = "The gateway cannot be reached. Check the connection and try again.";
  } finally {
    $("sign-in-button").disabled = false;
  }
}

function signedIn(agentId) {
  desk.agentId = agentId;
  $("sign-in").hidden = true;
  $("desk").hidden = false;
  $("agent-bar").hidden = false;
  connect();
}

async function signOut() {
  try { await Promise.race([call("agent.logout"), new Promise((r) => setTimeout(r, 2000))]); } catch {}
  await fetch("/api/logout", { method: "POST", credentials: "same-origin" }).catch(() => {});
  signedOut();
}

function signedOut() {
  // A fresh page is the simplest way to forget everything of the last agent.
  location.reload();
}

function showSignIn() {
  $("sign-in").hidden = false;
  $("desk").hidden = true;
  $("agent-bar").hidden = true;
  setConnection("");
  $("agent-id").focus();
}

// ---------------------------------------------------------------- small things

function setConnection(text) { $("connection").textContent = text; }

let announceTimer = null;
function announce(text) {
  const region = $("announcer");
  const line = document.createElement("p");
  line.textContent = text;
  region.append(line);
  while (region.childElementCount > 5) region.firstElementChild.remove();
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => region.replaceChildren(), 15000);
}

function showFailure(error) {
  if (error && error.type === "ConnectionLost") return;
  announce(`Something went wrong: ${error && error.message}`);
}

document.addEventListener("DOMContentLoaded", async () => {
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  $("state-select").addEventListener("change", (event) => changeState(event.target.value));
  $("recent-button").addEventListener("click", openRecent);
  $("recent-close").addEventListener("click", () => { if (desk.recentOpen) openRecent(); $("recent-button").focus(); });
  $("new-sms-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const number = normaliseNumber($("customer-number").value);
    const serviceId = $("service-select").value;
    if (!serviceId) { $("number-error").textContent = "None of your services can send SMS."; return; }
    if (!number) {
      $("number-error").textContent = "Enter the mobile number in international format, for example +15551234567.";
      $("customer-number").focus();
      return;
    }
    $("number-error").textContent = "";
    $("customer-number").value = "";
    openDraft(serviceId, number);
  });
  $("customer-number").addEventListener("input", () => { $("number-error").textContent = ""; });
  $("call-sms").addEventListener("click", () => {
    const callInfo = desk.agent && desk.agent.call;
    if (callInfo) openDraft(callInfo.serviceId, callInfo.customerNumber);
  });
  try {
    const response = await fetch("/api/session", { credentials: "same-origin" });
    if (response.ok) return signedIn((await response.json()).agentId);
  } catch {}
  showSignIn();
});
