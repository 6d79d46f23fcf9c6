// Shared by the chat page and the agent inbox. All text goes into the page with
// textContent, never as HTML: customers' and agents' messages cannot inject markup.
"use strict";

window.Journey = (() => {
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  async function api(path, { method = "GET", body, headers = {} } = {}) {
    const response = await fetch(path, {
      method,
      headers: { "Content-Type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error((data.error && data.error.message) || `Request failed (${response.status}).`);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function randomId() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function time(iso) {
    return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
  }

  function duration(seconds) {
    const minutes = Math.floor(seconds / 60);
    if (minutes < 1) return `${Math.max(0, Math.round(seconds))} s`;
    if (minutes < 60) return `${minutes} min`;
    return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  }

  // One message as a list item: who, the text, its sources; `extra` appends more (the inbox's passages).
  function messageItem(message, who, extra) {
    const item = el("li", `msg msg-${message.role}`);
    if (message.id) item.dataset.id = message.id;
    const head = el("div", "who", who);
    if (message.created_at) head.append(el("time", "when", time(message.created_at)));
    const bubble = el("div", "bubble");
    bubble.append(el("p", "text", message.content));
    if (message.sources && message.sources.length) {
      const sources = el("div", "sources");
      sources.append(el("span", "sources-title", "Sources"));
      const list = el("ul");
      message.sources.forEach((source) => list.append(el("li", null, source)));
      sources.append(list);
      bubble.append(sources);
    }
    if (message.handed_over) bubble.append(el("p", "badge", "Handed over to our support team"));
    if (extra) extra(bubble);
    item.append(head, bubble);
    return item;
  }

  function notice(text) {
    return el("li", "notice", text);
  }

  return { el, api, randomId, time, duration, messageItem, notice };
})();
