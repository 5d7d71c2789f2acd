// The moderator page: claims and lists the queue, records decisions, keyboard shortcuts,
// the author's history and the replied-to comment beside each comment, filters and search.
// Comment data is untrusted: it only ever reaches the page through textContent and
// text nodes (never innerHTML), so "<img src=x onerror=...>" shows as those characters.
"use strict";

const TOKEN_KEY = "classifier-token";
// How many pending comments the page holds for this moderator (claimed for 10 minutes, renewed on each load).
const CLAIM = 20;
const state = { status: "pending", items: [], selected: 0, undo: [], me: null, filters: {} };

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// ------------------------------------------------------------------ API

async function api(path, options = {}) {
  const headers = { Authorization: "Bearer " + sessionStorage.getItem(TOKEN_KEY) };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin("Jeton refusé.");
    throw new Error("unauthorised");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail || response.statusText);
    throw new Error(detail);
  }
  return data;
}

function say(message) {
  $("status").textContent = message;
}

// ------------------------------------------------------------------ highlighting

// Accent- and case-folded copy of `text`, with the index in `text` of each folded character.
function foldWithMap(text) {
  let folded = "";
  const map = [];
  for (let i = 0; i < text.length; i++) {
    const f = text[i].normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
    for (let j = 0; j < f.length; j++) {
      folded += f[j];
      map.push(i);
    }
  }
  return { folded, map };
}

function fold(text) {
  return foldWithMap(text).folded;
}

const WORD_CHAR = /[\p{L}\p{N}_]/u;

// Whether folded[at, at + length) is a whole word or phrase: no letter or digit touches either end.
function wholeWord(folded, at, length) {
  const before = at > 0 ? folded[at - 1] : "";
  const after = at + length < folded.length ? folded[at + length] : "";
  return !WORD_CHAR.test(before) && !WORD_CHAR.test(after);
}

// Non-overlapping [start, end, kind] ranges of `text` where the terms occur as whole words
// ("et" never inside "arreter").
function findRanges(text, terms) {
  const { folded, map } = foldWithMap(text);
  const ranges = [];
  for (const { term, kind } of terms) {
    const needle = fold(term.trim());
    if (needle.length < 2) continue;
    let at = folded.indexOf(needle);
    while (at !== -1) {
      if (wholeWord(folded, at, needle.length)) {
        ranges.push([map[at], map[at + needle.length - 1] + 1, kind]);
        at = folded.indexOf(needle, at + needle.length);
      } else {
        at = folded.indexOf(needle, at + 1);
      }
    }
  }
  ranges.sort((x, y) => x[0] - y[0] || y[1] - x[1]);
  const merged = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last && range[0] < last[1]) {
      last[1] = Math.max(last[1], range[1]);
      if (range[2] === "suspect") last[2] = "suspect";
    } else {
      merged.push(range.slice());
    }
  }
  return merged;
}

// The comment text as text nodes, with the reasons and suspect words wrapped in <mark>.
function highlighted(comment) {
  const terms = [
    ...comment.reasons.filter((r) => !r.startsWith("shouting")).map((term) => ({ term, kind: "reason" })),
    ...comment.suspect.map((term) => ({ term, kind: "suspect" })),
  ];
  const container = el("p", "text");
  let at = 0;
  for (const [start, end, kind] of findRanges(comment.text, terms)) {
    container.append(document.createTextNode(comment.text.slice(at, start)));
    container.append(el("mark", kind, comment.text.slice(start, end)));
    at = end;
  }
  container.append(document.createTextNode(comment.text.slice(at)));
  return container;
}

// ------------------------------------------------------------------ rendering

function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString("fr-FR");
}

// The attributes the page names when they make a comment suspect (toxicity is the hostile badge).
const ATTRIBUTE_LABELS = {
  severe_toxicity: "très toxique",
  insult: "insulte",
  threat: "menace",
  identity_attack: "attaque identitaire",
  profanity: "grossièreté",
};
const ATTRIBUTE_SHOWN_FROM = 0.5;

function suspectAttributes(comment) {
  return Object.entries(comment.attributes || {})
    .filter(([name, value]) => name in ATTRIBUTE_LABELS && value >= ATTRIBUTE_SHOWN_FROM)
    .sort((a, b) => b[1] - a[1]);
}

function renderComment(comment, index) {
  const item = el("li", "comment");
  item.dataset.id = comment.id;
  item.dataset.index = String(index);
  item.tabIndex = -1;

  const meta = el("div", "meta");
  const author = el("button", "author", comment.author || "anonyme");
  author.type = "button";
  author.title = "Voir les commentaires de cet auteur";
  if (comment.author) author.addEventListener("click", (event) => { event.stopPropagation(); setFilters({ author: comment.author }); });
  meta.append(author);
  const time = el("time", "published", when(comment.published));
  if (comment.published) time.dateTime = comment.published;
  meta.append(time);
  const level = comment.hostile >= 0.7 ? " hostile-high" : comment.hostile >= 0.4 ? " hostile-mid" : "";
  meta.append(el("span", "badge hostile" + level, "hostile " + Math.round(comment.hostile * 100) + " %"));
  if (comment.shouting) meta.append(el("span", "badge shouting", "MAJUSCULES " + Math.round(comment.caps_ratio * 100) + " %"));
  for (const [name, value] of suspectAttributes(comment)) {
    meta.append(el("span", "badge attribute", ATTRIBUTE_LABELS[name] + " " + Math.round(value * 100) + " %"));
  }
  if (comment.sentiment) meta.append(el("span", "badge sentiment", comment.sentiment));
  if (comment.language) meta.append(el("span", "badge language", comment.language));
  if (comment.model_decision) meta.append(el("span", "badge model-decision", "modèle : " + comment.model_decision));
  item.append(meta);

  if (comment.parent) {
    const parent = el("blockquote", "parent");
    parent.append(el("span", "parent-author", "En réponse à " + (comment.parent.author || "anonyme") + " : "));
    parent.append(document.createTextNode(comment.parent.text));
    item.append(parent);
  }
  item.append(highlighted(comment));
  if (comment.author_history) {
    const h = comment.author_history;
    item.append(el("p", "history", `Historique de l'auteur : ${h.pending} en attente · ${h.approved} approuvé(s) · ${h.rejected} rejeté(s)`));
  }
  if (comment.page) {
    const page = el("button", "page-filter", "Article : " + comment.page);
    page.type = "button";
    page.addEventListener("click", (event) => { event.stopPropagation(); setFilters({ page: comment.page }); });
    item.append(page);
  }
  if (comment.reasons.length || comment.suspect.length) {
    const reasons = [...comment.reasons, ...comment.suspect.map((w) => "mot suspect : " + w)];
    item.append(el("p", "reasons", "Raisons : " + reasons.join(" · ")));
  }

  const actions = el("div", "actions");
  const holder = comment.claimed_by;
  if (comment.status === "pending" && holder && state.me && holder !== state.me.name) {
    item.classList.add("claimed");
    actions.append(el("span", "claimed-by", "En cours de revue par " + holder));
  } else if (comment.status === "pending") {
    const approve = el("button", "approve", "Approuver (a)");
    approve.type = "button";
    approve.addEventListener("click", () => decide(comment.id, "approve"));
    const reject = el("button", "reject", "Rejeter (r)");
    reject.type = "button";
    reject.addEventListener("click", () => decide(comment.id, "reject"));
    actions.append(approve, reject);
  } else {
    actions.append(el("span", "decided", `${comment.status} par ${comment.decided_by || "?"} — ${when(comment.decided_at)}`));
    const back = el("button", "undo", "Remettre en attente");
    back.type = "button";
    back.addEventListener("click", () => undo(comment.id));
    actions.append(back);
  }
  item.append(actions);
  item.addEventListener("click", () => select(index));
  return item;
}

function render() {
  const list = $("queue");
  list.replaceChildren(...state.items.map(renderComment));
  $("empty").hidden = state.items.length > 0;
  if (state.selected >= state.items.length) state.selected = Math.max(state.items.length - 1, 0);
  select(state.selected);
}

function select(index) {
  const items = $("queue").children;
  if (!items.length) return;
  state.selected = Math.min(Math.max(index, 0), items.length - 1);
  for (const item of items) item.classList.toggle("selected", Number(item.dataset.index) === state.selected);
  items[state.selected].scrollIntoView({ block: "nearest" });
}

function showCounts(counts) {
  for (const status of ["pending", "approved", "rejected"]) $("count-" + status).textContent = String(counts[status] ?? 0);
}

// ------------------------------------------------------------------ actions

function query(params) {
  return Object.entries(params)
    .filter(([, value]) => value !== undefined && value !== null && value !== "")
    .map(([key, value]) => encodeURIComponent(key) + "=" + encodeURIComponent(value))
    .join("&");
}

async function load() {
  if (state.status === "pending") await api("/api/claim?limit=" + CLAIM, { method: "POST" });
  const data = await api("/api/comments?" + query({ status: state.status, limit: 200, ...state.filters }));
  // Pending: mine first, then free ones, then those others are reviewing (each group by priority).
  const rank = (c) => (!c.claimed_by ? 1 : state.me && c.claimed_by === state.me.name ? 0 : 2);
  state.items = state.status === "pending" ? data.items.map((c, i) => [c, i]).sort((x, y) => rank(x[0]) - rank(y[0]) || x[1] - y[1]).map((x) => x[0]) : data.items;
  showCounts(data.counts);
  render();
}

function setFilters(changes) {
  state.filters = { ...state.filters, ...changes };
  for (const name of ["page", "author", "attribute", "q"]) $("filter-" + name).value = state.filters[name] || "";
  state.selected = 0;
  load().catch((error) => say("Erreur : " + error.message));
}

async function decide(id, decision) {
  try {
    const comment = await api("/api/comments/" + encodeURIComponent(id) + "/decision", {
      method: "POST",
      body: JSON.stringify({ decision }),
    });
    state.undo.push(id);
    say((decision === "approve" ? "Approuvé : " : "Rejeté : ") + comment.text.slice(0, 60));
    await load();
  } catch (error) {
    if (error.message !== "unauthorised") say("Erreur : " + error.message);
  }
}

async function undo(id) {
  try {
    await api("/api/comments/" + encodeURIComponent(id) + "/undo", { method: "POST" });
    say("Décision annulée.");
    await load();
  } catch (error) {
    if (error.message !== "unauthorised") say("Erreur : " + error.message);
  }
}

function current() {
  return state.items[state.selected];
}

// Pending, and not held by another moderator.
function decidable(comment) {
  return comment && comment.status === "pending" && (!comment.claimed_by || (state.me && comment.claimed_by === state.me.name));
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement || event.target instanceof HTMLSelectElement) return;
  if ($("main").hidden) return;
  const comment = current();
  switch (event.key) {
    case "j": select(state.selected + 1); break;
    case "k": select(state.selected - 1); break;
    case "a": if (decidable(comment)) decide(comment.id, "approve"); break;
    case "r": if (decidable(comment)) decide(comment.id, "reject"); break;
    case "u": {
      const last = state.undo.pop();
      if (last) undo(last);
      else if (comment && comment.status !== "pending") undo(comment.id);
      else say("Rien à annuler.");
      break;
    }
    default: return;
  }
  event.preventDefault();
}

// ------------------------------------------------------------------ login

function showLogin(message) {
  $("main").hidden = true;
  $("logout").hidden = true;
  $("whoami").textContent = "";
  state.me = null;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("token").focus();
}

async function start() {
  $("login").hidden = true;
  $("main").hidden = false;
  $("logout").hidden = false;
  try {
    state.me = await api("/api/me");
    $("whoami").textContent = state.me.name + (state.me.role === "admin" ? " (admin)" : "");
    await load();
  } catch (error) {
    if (error.message !== "unauthorised") say("Erreur : " + error.message);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    start();
  });
  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    const q = $("filter-q").value.trim();
    if (q && q.length < 3) { say("La recherche demande au moins 3 caractères."); return; }
    setFilters({ page: $("filter-page").value.trim(), author: $("filter-author").value.trim(), attribute: $("filter-attribute").value, q });
  });
  $("filters-clear").addEventListener("click", () => setFilters({ page: "", author: "", attribute: "", q: "" }));
  $("logout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin("");
  });
  for (const tab of $("tabs").querySelectorAll("button")) {
    tab.addEventListener("click", () => {
      state.status = tab.dataset.status;
      state.selected = 0;
      for (const other of $("tabs").querySelectorAll("button")) other.classList.toggle("active", other === tab);
      load().catch((error) => say("Erreur : " + error.message));
    });
  }
  document.addEventListener("keydown", onKey);
  if (sessionStorage.getItem(TOKEN_KEY)) start();
  else showLogin("");
});
