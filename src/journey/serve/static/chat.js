// The customer's chat: send messages, watch the conversation's event stream (bot tokens,
// the final cited answer, agents' replies, status), resume it after a reload. Feedback: a thumb
// (and an optional comment) under each bot answer, "This solved it", "Talk to a person", and a
// 1-5 satisfaction question once the conversation is resolved (by the bot or, live, by an agent).
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
  const BOT_SPEAKS = ["bot", "resolved"];
  const SCORE_WORDS = ["very dissatisfied", "dissatisfied", "neutral", "satisfied", "very satisfied"];

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
  let lastRole = null; // who wrote the last message on the page
  let survey = null; // the satisfaction question, once the conversation was resolved
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

  function conversationUrl(path = "") {
    return `/api/conversations/${encodeURIComponent(conversationId)}${path}`;
  }

  function addMessage(message) {
    if (shown.has(message.id)) return;
    shown.add(message.id);
    if (message.id >= lastId) lastRole = message.role;
    lastId = Math.max(lastId, message.id);
    const item = J.messageItem(message, who(message));
    if (message.role === "bot" && message.id) item.append(answerFeedback(message));
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
    updateActions();
    scroll();
  }

  function addDelta(delta) {
    if (status !== null && !BOT_SPEAKS.includes(status)) return; // handed over meanwhile: that reply is dropped
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
    if (!BOT_SPEAKS.includes(next.status) && streaming) {
      streaming.item.remove();
      streaming = null;
    }
    const resolvedNow = next.status === "resolved" && status !== "resolved";
    status = next.status;
    statusLine.textContent = STATUS_TEXT[status] || "";
    document.body.dataset.status = status;
    if (resolvedNow) showSurvey();
    updateActions();
  }

  // -- feedback ----------------------------------------------------------------------
  // "This solved it" after a bot answer; "Talk to a person" while the bot speaks.
  function updateActions() {
    const botSpeaks = status === null || BOT_SPEAKS.includes(status);
    $("talk-to-person").hidden = !botSpeaks;
    $("solved").hidden = !(status === "bot" && lastRole === "bot");
  }

  async function talkToAPerson() {
    showError("");
    try {
      await ensureConversation();
      setStatus(await J.api(conversationUrl("/handover"), { method: "POST" }), true);
      input.focus();
    } catch (error) {
      showError(error.message);
    }
  }

  async function markSolved() {
    showError("");
    try {
      setStatus(await J.api(conversationUrl("/resolve"), { method: "POST" }), true);
      if (survey) survey.querySelector("button").focus();
    } catch (error) {
      showError(error.message);
    }
  }

  function pressed(buttons, chosen) {
    buttons.forEach((button) => button.setAttribute("aria-pressed", String(button === chosen)));
  }

  // Thumbs up/down under a bot answer; once rated, an optional comment (rating again replaces both).
  function answerFeedback(message) {
    const box = J.el("div", "feedback");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Was this answer helpful?");
    const thanks = J.el("span", "feedback-thanks");
    thanks.setAttribute("role", "status");
    const form = J.el("form", "feedback-comment");
    const comment = J.el("input");
    comment.id = `comment-${message.id}`;
    comment.maxLength = 1000;
    comment.placeholder = "Tell us more (optional)";
    comment.value = (message.rating && message.rating.comment) || "";
    const label = J.el("label", "visually-hidden", "Comment on this answer (optional)");
    label.htmlFor = comment.id;
    const submit = J.el("button", "quiet", "Send comment");
    submit.type = "submit";
    form.append(label, comment, submit);
    let value = message.rating ? message.rating.value : null;
    form.hidden = value === null;

    async function rate(thumb) {
      try {
        const body = { value: thumb, comment: comment.value.trim() || null };
        await J.api(conversationUrl(`/messages/${message.id}/rating`), { method: "PUT", body });
      } catch (error) {
        showError(error.message);
        return false;
      }
      value = thumb;
      pressed(thumbs, thumbs.find((button) => Number(button.dataset.value) === thumb));
      return true;
    }

    const thumbs = [
      [1, "👍", "Yes", "Helpful"],
      [-1, "👎", "No", "Not helpful"],
    ].map(([thumb, symbol, word, name]) => {
      const button = J.el("button", "thumb");
      const icon = J.el("span", "thumb-icon", symbol);
      icon.setAttribute("aria-hidden", "true");
      button.append(icon, ` ${word}`);
      button.type = "button";
      button.dataset.value = thumb;
      button.title = name;
      button.setAttribute("aria-label", name);
      button.setAttribute("aria-pressed", String(value === thumb));
      button.addEventListener("click", async () => {
        if (!(await rate(thumb))) return;
        form.hidden = false;
        thanks.textContent = "Thanks for your feedback.";
        comment.focus();
      });
      return button;
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (await rate(value)) thanks.textContent = "Thanks — your comment was sent.";
    });
    const prompt = J.el("span", "feedback-prompt", "Helpful?");
    prompt.setAttribute("aria-hidden", "true"); // the group's label says it
    box.append(prompt, ...thumbs, form, thanks);
    return box;
  }

  // The 1-5 question, at the end of the conversation; `score` marks an earlier answer.
  function showSurvey(score) {
    if (!survey) {
      survey = J.el("li", "survey");
      survey.setAttribute("role", "group");
      survey.setAttribute("aria-labelledby", "survey-title");
      const title = J.el("p", "survey-title", "How satisfied are you with the help you got?");
      title.id = "survey-title";
      const scores = J.el("div", "scores");
      const thanks = J.el("p", "survey-thanks");
      thanks.setAttribute("role", "status");
      const buttons = SCORE_WORDS.map((words, index) => {
        const button = J.el("button", "score", String(index + 1));
        button.type = "button";
        button.dataset.score = index + 1;
        button.setAttribute("aria-label", `${index + 1} of 5: ${words}`);
        button.setAttribute("aria-pressed", "false");
        button.addEventListener("click", async () => {
          try {
            await J.api(conversationUrl("/satisfaction"), { method: "PUT", body: { score: index + 1 } });
            pressed(buttons, button);
            thanks.textContent = "Thank you! You can change your answer any time.";
          } catch (error) {
            showError(error.message);
          }
        });
        return button;
      });
      scores.append(...buttons);
      survey.append(title, scores, J.el("p", "hint", "1 = very dissatisfied · 5 = very satisfied"), thanks);
    }
    if (score) pressed([...survey.querySelectorAll(".score")], survey.querySelector(`[data-score="${score}"]`));
    transcript.append(survey);
    scroll();
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
    lastRole = null;
    survey = null;
    shown.clear();
    transcript.replaceChildren();
    nameRow.hidden = false;
    statusLine.textContent = STATUS_TEXT.bot;
    updateActions();
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
        if (conversation.resolved_by) showSurvey(conversation.satisfaction && conversation.satisfaction.score);
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
  $("talk-to-person").addEventListener("click", talkToAPerson);
  $("solved").addEventListener("click", markSolved);
  resume();
})();
