// The agents' inbox: sign in with the agent key, see handed-over conversations (longest
// waiting first) with the passages the bot used, claim one, reply, resolve or hand back; see how
// the customer rated each answer and scored the conversation.
"use strict";

(() => {
  const J = window.Journey;
  const SESSION_KEY = "journey.agent";
  const POLL_MS = 2000;
  const $ = (id) => document.getElementById(id);
  const transcript = $("agent-transcript");
  const STATUS_TEXT = { waiting: "Waiting", agent: "Claimed", bot: "With the bot", resolved: "Resolved" };

  let session = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
  let selected = null; // conversation id
  let current = null; // the selected conversation as last fetched
  let shownUpTo = 0;
  let timer = null;

  function call(path, options = {}) {
    const headers = { Authorization: `Bearer ${session.key}` };
    return J.api(`/agent/api${path}`, { ...options, headers }).catch((error) => {
      if (error.status === 401) signOut("The agent key was not accepted.");
      throw error;
    });
  }

  function showError(id, text) {
    $(id).textContent = text;
    $(id).hidden = !text;
  }

  // -- signing in -----------------------------------------------------------------
  async function signIn(event) {
    event.preventDefault();
    session = { agent: $("agent").value.trim(), key: $("key").value };
    try {
      await call("/conversations");
    } catch (error) {
      if (error.status !== 401) showError("login-error", error.message);
      return;
    }
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    $("key").value = "";
    start();
  }

  function signOut(reason) {
    clearInterval(timer);
    sessionStorage.removeItem(SESSION_KEY);
    session = null;
    selected = null;
    $("inbox").hidden = true;
    $("whoami").hidden = true;
    $("login").hidden = false;
    showError("login-error", reason || "");
  }

  function start() {
    $("login").hidden = true;
    $("inbox").hidden = false;
    $("whoami").hidden = false;
    $("agent-name").textContent = session.agent;
    refresh();
    timer = setInterval(refresh, POLL_MS);
  }

  // -- the queue ------------------------------------------------------------------
  async function refresh() {
    try {
      const { conversations } = await call("/conversations");
      renderQueue(conversations);
      if (selected) await loadConversation();
    } catch (error) {
      if (session) showError("action-error", error.message);
    }
  }

  function renderQueue(conversations) {
    $("count").textContent = conversations.length ? `(${conversations.length})` : "";
    $("empty").hidden = conversations.length > 0;
    $("queue").replaceChildren(
      ...conversations.map((c) => {
        const button = J.el("button", "queue-item");
        button.type = "button";
        if (c.id === selected) button.setAttribute("aria-current", "true");
        const top = J.el("span", "queue-top");
        top.append(J.el("strong", null, c.customer), J.el("span", `pill pill-${c.status}`, statusLabel(c)));
        button.append(
          top,
          J.el("span", "queue-reason", `Reason: ${c.reason} · ${c.status === "waiting" ? "waiting" : "waited"} ${J.duration(c.waiting_s)}`),
          J.el("span", "queue-preview", c.last_message ? c.last_message.content : ""),
        );
        button.addEventListener("click", () => select(c.id));
        const item = J.el("li");
        item.append(button);
        return item;
      }),
    );
  }

  function statusLabel(c) {
    return c.status === "agent" ? `Claimed by ${c.agent}` : STATUS_TEXT[c.status] || c.status;
  }

  // -- one conversation ---------------------------------------------------------------
  async function select(id) {
    selected = id;
    shownUpTo = 0;
    transcript.replaceChildren();
    $("placeholder").hidden = true;
    $("conversation").hidden = false;
    showError("action-error", "");
    await loadConversation();
    refresh();
  }

  async function loadConversation() {
    const conversation = await call(`/conversations/${encodeURIComponent(selected)}`);
    current = conversation;
    $("customer").textContent = conversation.customer;
    const waited = conversation.waiting_s !== undefined ? ` · waited ${J.duration(conversation.waiting_s)}` : "";
    const reason = conversation.reason ? ` · reason: ${conversation.reason}` : "";
    $("meta").textContent = `${statusLabel(conversation)}${reason}${waited}`;
    conversation.messages.filter((m) => m.id > shownUpTo).forEach(addMessage);
    showRatings(conversation.messages);
    showSatisfaction(conversation);
    const mine = conversation.status === "agent" && conversation.agent === session.agent;
    $("claim").disabled = conversation.status !== "waiting";
    $("resolve").disabled = !(conversation.status === "waiting" || mine);
    $("handback").disabled = !(conversation.status === "waiting" || mine);
    $("reply").disabled = !mine;
    $("send-reply").disabled = !mine;
    $("reply").placeholder = mine ? "Reply to the customer…" : "Claim the conversation to reply.";
  }

  function addMessage(message) {
    shownUpTo = Math.max(shownUpTo, message.id);
    const who = { customer: current.customer, bot: "Bot", agent: `${message.author} (agent)` }[message.role];
    transcript.append(J.messageItem(message, who, (bubble) => addKnowledge(bubble, message)));
    transcript.scrollTop = transcript.scrollHeight;
  }

  // The passages and live lookups the bot was given for a reply, folded away.
  function addKnowledge(bubble, message) {
    if (message.reason) bubble.append(J.el("p", "hint", `Hand-over reason: ${message.reason}`));
    const passages = message.passages || [];
    const lookups = message.lookups || [];
    if (!passages.length && !lookups.length) return;
    const details = J.el("details", "passages");
    details.append(J.el("summary", null, `What the bot was given (${passages.length + lookups.length})`));
    const list = J.el("ol");
    passages.forEach((p) => {
      const item = J.el("li");
      item.append(J.el("strong", null, p.title), J.el("span", "hint", ` ${p.source}`), J.el("p", null, p.text));
      list.append(item);
    });
    lookups.forEach((l) => {
      const item = J.el("li");
      item.append(J.el("strong", null, `Lookup ${l.name}`), J.el("p", null, JSON.stringify(l.rows)));
      list.append(item);
    });
    details.append(list);
    bubble.append(details);
  }

  // -- the customer's feedback (refreshed with every poll: a rating may come or change any time) ------
  function showRatings(messages) {
    messages.forEach((message) => {
      const item = transcript.querySelector(`.msg[data-id="${message.id}"]`);
      if (!item) return;
      const old = item.querySelector(".rating");
      if (old) old.remove();
      const rating = message.rating;
      if (!rating) return;
      const verdict = rating.value > 0 ? "👍 helpful" : "👎 not helpful";
      const line = J.el("p", `rating rating-${rating.value > 0 ? "up" : "down"}`, `Customer rated this answer ${verdict}`);
      if (rating.comment) line.append(J.el("q", "rating-comment", rating.comment));
      item.querySelector(".bubble").append(line);
    });
  }

  function showSatisfaction(conversation) {
    const score = conversation.satisfaction;
    const line = $("satisfaction");
    line.hidden = !score;
    if (!score) return;
    line.textContent = `Customer satisfaction: ${score.score} / 5`;
    if (score.comment) line.append(J.el("q", "rating-comment", score.comment));
  }

  async function act(action) {
    showError("action-error", "");
    try {
      await call(`/conversations/${encodeURIComponent(selected)}/${action}`, {
        method: "POST",
        body: { agent: session.agent },
      });
    } catch (error) {
      showError("action-error", error.message);
    }
    refresh();
  }

  async function reply(event) {
    event.preventDefault();
    const content = $("reply").value.trim();
    if (!content) return;
    $("send-reply").disabled = true;
    try {
      await call(`/conversations/${encodeURIComponent(selected)}/messages`, {
        method: "POST",
        body: { agent: session.agent, content },
      });
      $("reply").value = "";
    } catch (error) {
      showError("action-error", error.message);
    }
    await refresh();
    $("reply").focus();
  }

  $("login-form").addEventListener("submit", signIn);
  $("logout").addEventListener("click", () => signOut(""));
  $("claim").addEventListener("click", () => act("claim"));
  $("resolve").addEventListener("click", () => act("resolve"));
  $("handback").addEventListener("click", () => act("handback"));
  $("reply-form").addEventListener("submit", reply);
  if (session) start();
})();
