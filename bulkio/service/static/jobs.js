// bulkio's web page: the jobs list and a job's page: counts, progress, errors, cancel, resume
// (after app.js).
"use strict";

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
