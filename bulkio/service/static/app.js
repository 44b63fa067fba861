// bulkio's web page: plain JavaScript, no build step. Every call goes to the service's own API
// with the session cookie; every state-changing call carries the CSRF token.
"use strict";

// Lead fields as people call them; the API's name is shown beside, as a hint.
const FIELDS = { email: "Email", firstName: "First name", lastName: "Last name",
  fullName: "Full name", companyName: "Company name", companyDomain: "Company domain",
  companyUrl: "Company website", title: "Job title", phoneNumber: "Phone",
  linkedinUrl: "LinkedIn profile", city: "City (kept in notes)",
  country: "Country (kept in notes)", industry: "Industry (kept in notes)", notes: "Notes" };
const state = { csrf: null, quota: null, preview: null, events: null, timer: null,
  away: false, jobsAt: null };
const $ = (id) => document.getElementById(id);

async function api(method, path, body) {
  const headers = {};
  if (method !== "GET") headers["X-CSRF-Token"] = state.csrf || "";
  let data = body;
  if (body && !(body instanceof FormData)) {
    headers["Content-Type"] = "application/json";
    data = JSON.stringify(body);
  }
  const response = await fetch(path, { method, headers, body: data, credentials: "same-origin" });
  let answer = null;
  try { answer = await response.json(); } catch (e) { answer = null; }
  if (response.status === 401) {
    state.csrf = null;
    showLogin("Your session has ended: log in again to come back to this page.");
  }
  if (!response.ok) {
    throw new Error((answer && answer.error) || `HTTP ${response.status}`);
  }
  return answer;
}

const n = (value) => Number(value || 0).toLocaleString();
function text(el, value) { el.textContent = value == null ? "" : String(value); return el; }
function make(tag, value, attrs) {
  const el = text(document.createElement(tag), value);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  return el;
}

// -- views ---------------------------------------------------------------------------------

const VIEWS = ["login", "import", "jobs", "job", "export", "purge"];
const NAV = { import: "#/import", jobs: "#/jobs", job: "#/jobs", export: "#/export", purge: "#/purge" };

// One view at a time: its heading takes the focus (a screen reader says where it is), the
// page's title names it, and the nav marks the current page.
function show(name) {
  for (const view of VIEWS) $(`${view}-view`).hidden = view !== name;
  $("nav").hidden = name === "login";
  if (state.events) { state.events.close(); state.events = null; }
  clearTimeout(state.timer);
  for (const link of $("nav").querySelectorAll("a")) {
    if (link.getAttribute("href") === NAV[name]) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const heading = $(`${name}-view`).querySelector("h2");
  document.title = `${heading.textContent} · bulkio`;
  if (name !== "login") heading.focus({ preventScroll: false });
}

// -- the service away (stopped, restarting, the network): said, and tried again -------------

function away(isAway) {
  state.away = isAway;
  $("away").hidden = !isAway;
  for (const b of document.querySelectorAll("#job-view button")) b.disabled = isAway;
}

// Every 2 s until the service answers; then `again` (or the login, which returns here).
async function reconnect(again) {
  away(true);
  clearTimeout(state.timer);
  let session = null;
  try {
    session = await (await fetch("/session", { credentials: "same-origin" })).json();
  } catch (e) { session = null; }
  if (!session) { state.timer = setTimeout(() => reconnect(again), 2000); return; }
  away(false);
  if (!session.logged_in) {
    state.csrf = null;
    showLogin("Your session has ended: log in again to come back to this page.");
    return;
  }
  applySession(session);
  again();
}
function showLogin(why) {
  show("login");
  text($("login-why"), why || "");
  $("token").focus();
}
function applySession(session) {
  state.csrf = session.csrf;
  state.quota = session.quota_per_minute;
  $("notify-row").hidden = !session.can_notify;  // only where the operator allows hosts
}

async function route() {
  const hash = location.hash || "#/import";
  if (!state.csrf) {
    const session = await (await fetch("/session", { credentials: "same-origin" })).json();
    if (!session.logged_in) return showLogin();
    applySession(session);
  }
  const job = hash.match(/^#\/jobs\/(job_[0-9a-f]+)$/);
  if (job) return openJob(job[1]);
  if (hash === "#/jobs") return listJobs();
  if (hash === "#/export") { show("export"); return fillClients(["export-client"], true); }
  if (hash === "#/purge") { show("purge"); return fillClients(["purge-client"], false); }
  show("import");
  return fillClients(["client"], false);
}

// -- login ---------------------------------------------------------------------------------

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  text($("login-error"), "");
  const response = await fetch("/login", { method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token: $("token").value }) });
  if (!response.ok) { text($("login-error"), "That is not the service token."); return; }
  $("token").value = "";
  applySession(await response.json());
  route();
});
$("logout").addEventListener("click", async () => {
  await api("POST", "/logout");
  state.csrf = null;
  showLogin();
});

// -- clients -------------------------------------------------------------------------------

async function fillClients(ids, withAll) {
  // The forms' buttons wait for their client pickers: a click before the list arrives would
  // send no client (seen on a slow machine: "client is required").
  const buttons = ids.flatMap((id) => [...($(id).form ? $(id).form.querySelectorAll("button") : [])]);
  for (const b of buttons) b.disabled = true;
  try {
    const { clients } = await api("GET", "/clients");
    for (const id of ids) {
      const select = $(id);
      const chosen = select.value;
      select.replaceChildren();
      // no client is chosen for the user: the import's asks for one
      select.append(make("option", withAll ? "every client" : "Choose a client…", { value: "" }));
      for (const c of clients) select.append(make("option", `${c.name} (${c.slug})`, { value: c.slug }));
      if (chosen) select.value = chosen;
    }
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

// Deferred scripts all run before DOMContentLoaded: by then every view's code is here.
window.addEventListener("hashchange", route);
document.addEventListener("DOMContentLoaded", route);
