// bulkio's web page: the jobs list and a job's page: counts, progress, errors, cancel, resume
// (after app.js).
"use strict";

const STATUS_WORDS = { queued: "Waiting", in_progress: "Running", completed: "Done",
  failed: "Failed", cancelled: "Cancelled" };

function countsOf(job) {
  if (job.kind === "import") {
    return `${n(job.rows_done)} of ${n(job.total_rows)} rows: ${n(job.created_count)} created, ` +
      `${n(job.updated_count)} updated, ${n(job.skipped_count)} skipped, ` +
      `${n(job.failed_count)} rejected or failed`;
  }
  if (job.kind === "export") return `${n(job.records)} leads exported`;
  if (job.kind === "undo") return `${n(job.deleted)} of ${n(job.found)} leads deleted`;
  return `${n(job.deleted)} of ${n(job.found)} leads deleted`;
}

function titleOf(job) {
  const client = (job.request && job.request.client) || "every client";
  if (job.kind === "import") return `Import of ${job.file_name} into ${client}`;
  if (job.kind === "undo") return `Undo of the import of ${job.file_name} into ${client}`;
  if (job.kind === "export") {
    const which = { enrich: "enrich leads", source: "source leads", all: "leads" }[job.request.kind];
    return `Export of the ${which || "leads"} of ${client}`;
  }
  return `Purge of ${client}`;
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");

function tookOf(job) {
  if (!job.started_at) return "";
  const end = job.completed_at ? new Date(job.completed_at) : new Date();
  const seconds = Math.max(0, (end - new Date(job.started_at)) / 1000);
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
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
  const labels = [...$("jobs-table").tHead.rows[0].cells].map((th) => th.textContent);
  for (const job of jobs) {
    const tr = body.insertRow();
    const cells = [make("a", titleOf(job), { href: `#/jobs/${job.job_id}` }),
      STATUS_WORDS[job.status] || job.status, when(job.started_at || job.created_at),
      tookOf(job), countsOf(job), job.request.via === "page" ? "this page" : "the API"];
    cells.forEach((cell, i) => {
      const td = tr.insertCell();
      td.dataset.label = labels[i];  // shown before the value on a narrow screen
      if (typeof cell === "string") text(td, cell); else td.append(cell);
    });
  }
}

const COUNT_LABELS = { total_rows: "Rows in the file", rows_done: "Rows done",
  created_count: "Created", updated_count: "Updated", skipped_count: "Skipped (email seen before)",
  rejected_count: "Rejected (bad data)", send_failed_count: "Failed (could not be sent)",
  remaining_count: "Not done yet", records: "Leads exported", found: "Leads found",
  deleted: "Deleted", remaining: "Left in the client", left: "Still there",
  updated_not_reverted: "Updated (not reverted)" };

function renderJob(job) {
  text($("job-title"), titleOf(job));
  document.title = `${titleOf(job)} · bulkio`;
  text($("job-status"), STATUS_WORDS[job.status] || job.status);
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
  renderChart(job);
  renderOutcome(job);
  renderHow(job);
  renderUndo(job);
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

// Rows done over time, from what this page has seen of the job (a line, drawn as it runs).
function renderChart(job) {
  const chart = $("job-chart");
  // an <svg> has no `hidden` property: the attribute is set itself
  if (job.kind !== "import" || !job.total_rows) { chart.toggleAttribute("hidden", true); return; }
  const seen = state.seen || (state.seen = { id: null, points: [] });
  if (seen.id !== job.job_id) { seen.id = job.job_id; seen.points = []; }
  if (job.status === "in_progress") seen.points.push([Date.now(), job.rows_done || 0]);
  chart.toggleAttribute("hidden", seen.points.length < 2);
  if (seen.points.length < 2) return;
  const [t0] = seen.points[0];
  const span = Math.max(1, seen.points[seen.points.length - 1][0] - t0);
  chart.querySelector("polyline").setAttribute("points", seen.points.map(([t, rows]) =>
    `${((t - t0) / span * 300).toFixed(1)},${(58 - rows / job.total_rows * 56).toFixed(1)}`).join(" "));
}

// What a stopped import kept, and what Resume does.
function renderOutcome(job) {
  let said = "";
  if (job.kind === "import" && ["cancelled", "failed"].includes(job.status)) {
    said = `${n(job.rows_done)} rows were done before it stopped (${n(job.created_count)} ` +
      `created, ${n(job.updated_count)} updated); ${n(job.remaining_count)} were not.`;
    if (job.can_resume) said += " Resume continues where it stopped: no lead is sent twice.";
  }
  text($("job-outcome"), said);
}

const ON_DUPLICATE_DONE = { skip: "skipped the row", update: "updated the lead",
  create: "created another lead" };

// The file, client, mapping and options the job ran with.
function renderHow(job) {
  const r = job.request || {};
  const facts = [["Started from", r.via === "page" ? "this page" : "the API"]];
  if (job.file_name) facts.push(["File", job.file_name]);
  facts.push(["Client", r.client || "every client"]);
  if (job.kind === "import") {
    facts.push(["Email column", (r.primary_identifier || {}).column || ""]);
    facts.push(["An email the client had", ON_DUPLICATE_DONE[r.on_duplicate] || r.on_duplicate]);
    facts.push(["Rows without an email", r.allow_no_email ? "imported" : "rejected"]);
    const mapped = Object.entries(r.field_mappings || {});
    facts.push(["Columns", mapped.length ? mapped.map(([c, f]) => `${c} → ${FIELDS[f] || f}`).join(", ")
      : "mapped by bulkio from their names"]);
  }
  if (job.kind === "export") {
    facts.push(["Fields", (r.fields || []).join(", ") || "every field"]);
    facts.push(["File", r.format === "csv" ? `CSV separated by "${r.separator || ","}"` : "JSON lines"]);
  }
  const list = $("job-how-list");
  list.replaceChildren();
  for (const [k, v] of facts) {
    const div = document.createElement("div");
    div.append(make("dt", k), make("dd", v));
    list.append(div);
  }
}

// The rejected rows, fixed, imported in one step: same client, same columns and choices.
$("reimport").addEventListener("click", () => $("reimport-file").click());
$("reimport-file").addEventListener("change", async () => {
  const file = $("reimport-file").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file, file.name);
  const importId = location.hash.split("/").pop();
  try {
    const job = await api("POST", `/leads/import/jobs/${importId}/reimport`, form);
    location.hash = `#/jobs/${job.job_id}`;
  } catch (e) { text($("job-message"), e.message); }
  $("reimport-file").value = "";
});

// Undo an import: exactly the leads it created, with the client's slug typed, as a purge asks.
function renderUndo(job) {
  const client = job.request && job.request.client;
  $("undo").hidden = !job.can_undo && !job.undo;
  $("undo-form").hidden = !job.can_undo;
  text($("undo-what"), `Undo deletes the ${n(job.created_count)} leads this import created in ` +
    `${client}, and no other lead. Leads it updated (${n(job.updated_count)}) keep their new ` +
    "values: their old ones were never kept.");
  text($("undo-confirm-label"), `Type ${client} to confirm`);
  $("undo-form").dataset.client = client || "";
  const done = $("undo-done");
  done.replaceChildren();
  if (job.undo) {
    done.append(`This import has an undo (${STATUS_WORDS[job.undo.status] || job.undo.status}): `,
      make("a", "see it", { href: `#/jobs/${job.undo.job_id}` }), ".");
  }
}

$("undo-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = $("undo-form");
  const typed = $("undo-confirm").value.trim();
  if (typed !== form.dataset.client) {
    text($("undo-error"), `That is not the client's name as LeadGenius knows it: type ${form.dataset.client}.`);
    return;
  }
  text($("undo-error"), "");
  const importId = location.hash.split("/").pop();
  try {
    const undo = await api("POST", `/leads/import/jobs/${importId}/undo`, { confirm: typed });
    $("undo-confirm").value = "";
    location.hash = `#/jobs/${undo.job_id}`;
  } catch (e) { text($("undo-error"), e.message); }
});

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
  $("repaired").hidden = !(job.repaired || []).length;
  $("repaired-list").replaceChildren(...(job.repaired || []).map((r) =>
    make("li", `row ${r.row}, column ${r.column}`)));
  $("rejects-link").hidden = job.errors_total === 0;
  $("reimport").hidden = job.errors_total === 0;
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
  $("rejects-link").hidden = $("reimport").hidden = true;
}
