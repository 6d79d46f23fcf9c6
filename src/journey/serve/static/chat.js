// The customer's chat: send messages, watch the conversation's event stream (bot tokens,
// the final cited answer, agents' replies, status), resume it after a reload.
// A site that signs its customer in may open the page with the customer's signed identity in the
// URL fragment (#email=...&expires=...&signature=..., see docs/security.md): it is never sent in a
// URL, is removed from the address bar at once, and starts a conversation for that customer.
"use strict";

(() => {
  const J = window.Journey;
  const STORAGE_KEY = "journey.conversation";
  const $ = (id) => document.getElementById(id);
  const transcript = $("transcript");
  const input = $("message");
  const nameRow = $("name-row");
  const statusLine = $("chat-status");
  const errorLine = $("error");
  const STATUS_TEXT = {
    bot: "You're chatting with our assistant.",
    waiting: "A member of our support team will reply here shortly.",
    agent: "You're chatting with our support team.",
    resolved: "This conversation was resolved. Write again any time.",
  };

  // The signed identity in the fragment, if any: {fields, expires, signature}.
  function takeIdentity() {
    const params = new URLSearchParams(location.hash.slice(1));
    const signature = params.get("signature");
    const expires = Number(params.get("expires"));
    if (!signature || !Number.isInteger(expires)) return null;
    history.replaceState(null, "", location.pathname + location.search);
    params.delete("signature");
    params.delete("expires");
    return { fields: Object.fromEntries(params), expires, signature };
  }

  const identity = takeIdentity(); // kept in memory for "New conversation", until it expires
  if (identity) localStorage.removeItem(STORAGE_KEY); // a newly signed-in customer starts afresh
  let conversationId = localStorage.getItem(STORAGE_KEY);
  let company = "us";
  let events = null;
  let status = null;
  let lastId = 0;
  let streaming = null; // the bot reply being typed: {item, text}
  const shown = new Set(); // message ids on the page
  const sending = new Map(); // client id -> the message's item, until the server confirms it

  function who(message) {
    if (message.role === "customer") return "You";
    if (message.role === "agent") return `${message.author || "Agent"} · support team`;
    return `${company} assistant`;
  }

  function scroll() {
    transcript.scrollTop = transcript.scrollHeight;
  }

  function showError(text) {
    errorLine.textContent = text;
    errorLine.hidden = !text;
  }

  function addMessage(message) {
    if (shown.has(message.id)) return;
    shown.add(message.id);
    lastId = Math.max(lastId, message.id);
    const item = J.messageItem(message, who(message));
    const pending = message.client_id && sending.get(message.client_id);
    if (pending) {
      pending.replaceWith(item);
      sending.delete(message.client_id);
    } else if (message.role === "bot" && streaming) {
      streaming.item.replaceWith(item);
      streaming = null;
    } else {
      transcript.append(item);
    }
    scroll();
  }

  function addDelta(delta) {
    if (!streaming) {
      const item = J.messageItem({ role: "bot", content: "" }, who({ role: "bot" }));
      item.setAttribute("aria-busy", "true");
      transcript.append(item);
      streaming = { item, text: "" };
    }
    streaming.text += delta.text;
    streaming.item.querySelector(".text").textContent = streaming.text;
    scroll();
  }

  function setStatus(next, live) {
    if (live && status !== null && next.status !== status) {
      const joined = next.status === "agent" ? `${next.agent || "An agent"} from our support team joined.` : null;
      const back = next.status === "bot" && status !== "resolved" ? "You're back with our assistant." : null;
      const text = joined || back || STATUS_TEXT[next.status];
      if (text) transcript.append(J.notice(text));
      scroll();
    }
    status = next.status;
    statusLine.textContent = STATUS_TEXT[status] || "";
    document.body.dataset.status = status;
  }

  function connect() {
    if (events) events.close();
    const url = `/api/conversations/${encodeURIComponent(conversationId)}/events?after=${lastId}`;
    events = new EventSource(url);
    events.addEventListener("message", (e) => addMessage(JSON.parse(e.data)));
    events.addEventListener("delta", (e) => addDelta(JSON.parse(e.data)));
    events.addEventListener("status", (e) => setStatus(JSON.parse(e.data), true));
    events.addEventListener("open", () => showError(""));
  }

  function greet() {
    transcript.append(J.notice(`Hi! I'm the ${company} assistant. Ask me anything — a person takes over when needed.`));
  }

  async function ensureConversation() {
    if (conversationId) return;
    const body = { customer: $("customer-name").value };
    if (identity) body.identity = identity;
    const conversation = await J.api("/api/conversations", { method: "POST", body });
    conversationId = conversation.id;
    localStorage.setItem(STORAGE_KEY, conversationId);
    nameRow.hidden = true;
    setStatus(conversation, false);
    connect();
  }

  async function send(event) {
    event.preventDefault();
    const content = input.value.trim();
    if (!content) return;
    $("send").disabled = true;
    showError("");
    const clientId = J.randomId();
    try {
      await ensureConversation();
      const item = J.messageItem({ role: "customer", content }, "You");
      item.classList.add("sending");
      transcript.append(item);
      sending.set(clientId, item);
      input.value = "";
      scroll();
      addMessage(
        await J.api(`/api/conversations/${encodeURIComponent(conversationId)}/messages`, {
          method: "POST",
          body: { content, client_id: clientId },
        }),
      );
    } catch (error) {
      const item = sending.get(clientId);
      if (item) item.remove();
      sending.delete(clientId);
      input.value = content;
      showError(error.message);
    } finally {
      $("send").disabled = false;
      input.focus();
    }
  }

  function startOver() {
    if (events) events.close();
    events = null;
    localStorage.removeItem(STORAGE_KEY);
    conversationId = null;
    status = null;
    lastId = 0;
    streaming = null;
    shown.clear();
    transcript.replaceChildren();
    nameRow.hidden = false;
    statusLine.textContent = STATUS_TEXT.bot;
    greet();
    input.focus();
  }

  async function resume() {
    try {
      const info = await J.api("/api/info");
      company = info.company;
      $("chat-title").textContent = `${company} support`;
      document.title = `${company} support`;
    } catch (error) {
      showError(error.message);
    }
    if (conversationId) {
      try {
        const conversation = await J.api(`/api/conversations/${encodeURIComponent(conversationId)}`);
        nameRow.hidden = true;
        conversation.messages.forEach(addMessage);
        setStatus(conversation, false);
        connect();
        return;
      } catch (error) {
        if (error.status !== 404) {
          showError(error.message);
          return;
        }
        localStorage.removeItem(STORAGE_KEY);
        conversationId = null;
      }
    }
    greet();
  }

  $("composer").addEventListener("submit", send);
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("new-chat").addEventListener("click", startOver);
  resume();
})();
