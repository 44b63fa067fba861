// bulkio's web page: plain JavaScript, no build step. Every call goes to the service's own API
// with the session cookie; every state-changing call carries the CSRF token.
"use strict";

const FIELDS = ["email", "firstName", "lastName", "fullName", "companyName", "companyDomain",
  "companyUrl", "title", "phoneNumber", "linkedinUrl", "city", "country", "industry", "notes"];
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

function text(el, value) { el.textContent = value == null ? "" : String(value); return el; }
function make(tag, value, attrs) {
  const el = text(document.createElement(tag), value);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  return el;
}

// -- views ---------------------------------------------------------------------------------

const VIEWS = ["login", "import", "jobs", "job", "export", "purge"];
function show(name) {
  for (const view of VIEWS) $(`${view}-view`).hidden = view !== name;
  $("nav").hidden = name === "login";
  if (state.events) { state.events.close(); state.events = null; }
  clearTimeout(state.timer);
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
      if (withAll) select.append(make("option", "every client", { value: "" }));
      for (const c of clients) select.append(make("option", `${c.name} (${c.slug})`, { value: c.slug }));
      if (chosen) select.value = chosen;
    }
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

$("create-client").addEventListener("click", async () => {
  const name = $("new-client").value.trim();
  if (!name) return;
  try {
    const { client } = await api("POST", "/clients", { name });
    await fillClients(["client"], false);
    $("client").value = client.slug;
    $("new-client").value = "";
    refreshPayloads();
  } catch (e) { text($("start-error"), e.message); }
});

// -- upload and preview ------------------------------------------------------------------------

async function upload(file) {
  text($("upload-error"), "");
  $("preview").hidden = true;
  const form = new FormData();
  form.append("file", file, file.name);
  try {
    state.preview = await api("POST", "/leads/import/preview", form);
  } catch (e) { text($("upload-error"), e.message); return; }
  renderPreview(state.preview);
}

const drop = $("drop");
$("file").addEventListener("change", () => { if ($("file").files[0]) upload($("file").files[0]); });
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  if (e.dataTransfer.files[0]) upload(e.dataTransfer.files[0]);
});
drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") $("file").click(); });

function renderPreview(p) {
  text($("preview-name"), p.file_name);
  text($("preview-facts"), `${p.row_count.toLocaleString()} rows; read as ${p.read_as}. ` +
    `Email columns: ${p.auto_detected_identifiers.email_columns.join(", ") || "none found"}; ` +
    `phone columns: ${p.auto_detected_identifiers.phone_columns.join(", ") || "none found"}.`);
  const ids = new Set([...p.auto_detected_identifiers.email_columns,
    ...p.auto_detected_identifiers.phone_columns]);
  const table = $("preview-table");
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const h of p.headers) {
    const th = make("th", h, { scope: "col" });
    if (ids.has(h)) th.className = "identifier";
    head.append(th);
  }
  const body = table.createTBody();
  for (const row of p.sample_rows) {
    const tr = body.insertRow();
    row.forEach((cell, i) => {
      const td = tr.insertCell();
      text(td, cell);
      if (ids.has(p.headers[i])) td.className = "identifier";
    });
  }
  const mapping = $("mapping-table").tBodies[0];
  mapping.replaceChildren();
  p.headers.forEach((h, i) => {
    const tr = mapping.insertRow();
    tr.append(make("th", h, { scope: "row" }));
    const select = make("select", null, { "aria-label": `Lead field for column ${h}`,
      "data-column": h });
    select.append(make("option", "(not imported)", { value: "" }));
    for (const f of FIELDS) select.append(make("option", f, { value: f }));
    select.value = p.suggested_mappings[h] || "";
    select.addEventListener("change", refreshPayloads);
    tr.insertCell().append(select);
    text(tr.insertCell(), (p.sample_rows[0] || [])[i]);
  });
  const primary = $("primary");
  primary.replaceChildren();
  const emails = p.auto_detected_identifiers.email_columns;
  for (const h of (emails.length ? emails : p.headers)) primary.append(make("option", h, { value: h }));
  primary.onchange = refreshPayloads;
  $("preview").hidden = false;
  refreshPayloads();
}

function startBody() {
  const fields = {};
  for (const select of document.querySelectorAll("#mapping-table select")) {
    if (select.value && select.value !== "email") fields[select.dataset.column] = select.value;
  }
  return { file_id: state.preview.file_id, client: $("client").value,
    primary_identifier: { column: $("primary").value, kind: "email" },
    field_mappings: fields, on_duplicate: $("on-duplicate").value };
}

let refreshing = null;
let sampleAsked = 0;  // an answer to an older request never replaces a newer one's
function refreshPayloads() {
  clearTimeout(refreshing);
  refreshing = setTimeout(async () => {
    const asked = ++sampleAsked;
    let shown;
    try {
      const { payloads, notices } = await api("POST", "/leads/import/sample", startBody());
      shown = payloads.map((p) => p.payload
        ? `row ${p.row}: ${JSON.stringify(p.payload)}` : `row ${p.row}: rejected: ${p.error}`)
        .concat(notices).join("\n");
    } catch (e) { shown = e.message; }
    if (asked === sampleAsked) text($("payloads"), shown);
  }, 200);
}
$("client").addEventListener("change", refreshPayloads);

$("start-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  text($("start-error"), "");
  $("start").disabled = true;
  try {
    const job = await api("POST", "/leads/import/start", startBody());
    location.hash = `#/jobs/${job.job_id}`;
  } catch (e) { text($("start-error"), e.message); } finally { $("start").disabled = false; }
});

// -- jobs ----------------------------------------------------------------------------------

function countsOf(job) {
  if (job.kind === "import") {
    return `${(job.rows_done || 0).toLocaleString()} of ${(job.total_rows || 0).toLocaleString()} rows; ` +
      `created ${job.created_count || 0}, updated ${job.updated_count || 0}, ` +
      `skipped ${job.skipped_count || 0}, failed ${job.failed_count || 0}`;
  }
  if (job.kind === "export") return `${(job.records || 0).toLocaleString()} records`;
  return `deleted ${job.deleted || 0} of ${job.found || 0}`;
}

// The list follows the jobs (every 3 s while shown); a service that stops answering is said,
// with the time of the list shown.
async function listJobs() {
  show("jobs");
  await refreshJobs();
}

async function refreshJobs() {
  let jobs;
  try {
    ({ jobs } = await api("GET", "/jobs?limit=100"));
  } catch (e) {
    if (!state.csrf) return;  // logged out: the login says so
    text($("jobs-stale"), `The service is not answering; this list is from ${state.jobsAt || "earlier"}.`);
    state.timer = setTimeout(refreshJobs, 3000);
    return;
  }
  text($("jobs-stale"), "");
  state.jobsAt = new Date().toLocaleTimeString();
  if (!$("jobs-view").hidden) state.timer = setTimeout(refreshJobs, 3000);
  const body = $("jobs-table").tBodies[0];
  body.replaceChildren();
  for (const job of jobs) {
    const tr = body.insertRow();
    const link = make("a", job.job_id, { href: `#/jobs/${job.job_id}` });
    tr.insertCell().append(link);
    text(tr.insertCell(), job.kind);
    text(tr.insertCell(), job.status);
    text(tr.insertCell(), job.file_name || (job.request && job.request.client) || "every client");
    text(tr.insertCell(), job.created_at);
    text(tr.insertCell(), countsOf(job));
  }
}

const COUNT_LABELS = { total_rows: "Rows in the file", rows_done: "Rows done",
  created_count: "Created", updated_count: "Updated", skipped_count: "Skipped (duplicates)",
  failed_count: "Failed", remaining_count: "Not done yet", records: "Records", found: "Leads found", deleted: "Deleted",
  remaining: "Remaining" };

function renderJob(job) {
  text($("job-title"), `${job.kind} job ${job.job_id}`);
  text($("job-status"), job.status);
  text($("job-message"), job.message || "");
  const counts = $("job-counts");
  counts.replaceChildren();
  for (const [key, label] of Object.entries(COUNT_LABELS)) {
    if (job[key] === undefined) continue;
    const div = document.createElement("div");
    div.append(make("dt", label), make("dd", Number(job[key]).toLocaleString(), { "data-count": key }));
    counts.append(div);
  }
  renderProgress(job);
  $("cancel-job").hidden = !job.can_cancel;
  $("resume-job").hidden = !job.can_resume;
  const downloads = $("downloads");
  downloads.replaceChildren();
  const several = (job.downloads || []).length > 1;
  for (const d of job.downloads || []) {
    downloads.append(make("a", several ? `Download the ${d.kind} leads` : "Download the export",
      { href: d.url, class: "button" }), " ");
  }
}

// "about 3 min": an estimate, said as one
function duration(seconds) {
  if (seconds < 60) return `about ${Math.max(5, Math.round(seconds / 5) * 5)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min`;
  return `about ${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function renderProgress(job) {
  const bar = $("job-progress");
  const total = job.total_rows || 0;
  const done = Math.min(job.rows_done || 0, total);
  bar.hidden = job.kind !== "import" || !total;
  bar.max = total || 1;
  bar.value = done;
  const percent = total ? Math.floor((100 * done) / total) : 0;
  bar.setAttribute("aria-valuetext", `${percent}%`);
  const p = job.progress;
  if (!p || job.kind !== "import") { text($("job-speed"), ""); return; }
  // the pace measured on this run; the quota's only until there is one
  const perMinute = (p.rows_per_s || 0) * 60;
  const pace = perMinute > 0 ? perMinute : (state.quota || 0);
  const left = total - done;
  const parts = [`${percent}% done`];
  if (perMinute > 0) parts.push(`${Math.round(perMinute).toLocaleString()} rows a minute`);
  if (pace > 0 && left > 0) parts.push(`${duration((left / pace) * 60)} left`);
  if (p.rate_limited || (state.quota && perMinute >= 0.9 * state.quota)) {
    parts.push("slowed to the API's limit");
  }
  text($("job-speed"), parts.join(" · "));
}

async function loadErrors(jobId) {
  const job = await api("GET", `/leads/import/jobs/${jobId}?errors_limit=200`);
  text($("job-notices"), (job.notices || []).join(" "));
  const body = $("errors-table").tBodies[0];
  body.replaceChildren();
  for (const e of job.errors) {
    const tr = body.insertRow();
    text(tr.insertCell(), e.row);
    text(tr.insertCell(), e.error);
    text(tr.insertCell(), e.value);
  }
  $("rejects-link").hidden = job.errors_total === 0;
  $("rejects-link").href = `/leads/import/jobs/${jobId}/rejects`;
  text($("rejects-link"), `Download the rejected rows (${job.errors_total})`);
}

async function openJob(jobId) {
  show("job");
  $("cancel-job").onclick = async () => {
    try { await api("POST", `/jobs/${jobId}/cancel`); } catch (e) { text($("job-message"), e.message); }
  };
  $("resume-job").onclick = async () => {
    try {
      await api("POST", `/jobs/${jobId}/resume`);
      await followJob(jobId);
    } catch (e) { text($("job-message"), e.message); }
  };
  await followJob(jobId);
}

async function followJob(jobId) {
  renderJob(await api("GET", `/jobs/${jobId}`));
  if (state.events) state.events.close();
  const events = new EventSource(`/jobs/${jobId}/events`);
  state.events = events;
  events.addEventListener("error", () => {  // the stream broke before the job ended
    events.close();
    if (state.events === events) reconnect(() => followJob(jobId));
  });
  events.addEventListener("state", async (message) => {
    const job = JSON.parse(message.data);
    renderJob(job);
    if (job.ended) {
      events.close();
      if (job.kind === "import") await loadErrors(jobId);
    }
  });
  $("errors-table").tBodies[0].replaceChildren();
  $("rejects-link").hidden = true;
}

// -- export and purge --------------------------------------------------------------------------

$("export-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  text($("export-error"), "");
  const fields = $("export-fields").value.split(",").map((f) => f.trim()).filter(Boolean);
  const client = $("export-client").value;
  try {
    const job = await api("POST", "/exports", { kind: $("export-kind").value,
      clients: client ? [client] : null, fields: fields.length ? fields : null,
      format: $("export-format").value });
    location.hash = `#/jobs/${job.job_id}`;
  } catch (e) { text($("export-error"), e.message); }
});

$("purge-count").addEventListener("click", async () => {
  text($("purge-error"), "");
  try {
    const plan = await api("POST", "/purges", { client: $("purge-client").value, dry_run: true });
    text($("purge-plan"), `${plan.client} holds ${plan.leads.toLocaleString()} leads. Type its slug to delete them all.`);
  } catch (e) { text($("purge-error"), e.message); }
});

$("purge-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  text($("purge-error"), "");
  try {
    const job = await api("POST", "/purges", { client: $("purge-client").value,
      confirm: $("purge-confirm").value.trim() });
    $("purge-confirm").value = "";
    location.hash = `#/jobs/${job.job_id}`;
  } catch (e) { text($("purge-error"), e.message); }
});

window.addEventListener("hashchange", route);
route();
