// bulkio's web page: the import: upload, preview, mapping, client, start (after app.js).
"use strict";

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
// The drop zone is the one control: a click or Enter/Space opens the file picker.
drop.addEventListener("click", () => $("file").click());
drop.addEventListener("keydown", (e) => {
  if (e.key === "Enter" || e.key === " ") { e.preventDefault(); $("file").click(); }
});

// A file that cannot give a lead is stopped here, before anything starts.
function stopReason(p) {
  if (p.row_count === 0) return "This file has a header but no rows: there is nothing to import.";
  if (!p.auto_detected_identifiers.email_columns.length) {
    return "No column of this file holds email addresses. LeadGenius finds each lead by its " +
      "email: add an email column to the file and upload it again.";
  }
  return "";
}

function renderPreview(p) {
  text($("preview-name"), p.file_name);
  text($("preview-facts"), `${p.row_count.toLocaleString()} rows, read as ${p.read_as}. ` +
    `Email column: ${p.auto_detected_identifiers.email_columns.join(", ") || "none found"}.`);
  const stopped = stopReason(p);
  text($("preview-stop"), stopped);
  $("start-form").hidden = $("columns").hidden = Boolean(stopped);
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
    for (const [f, label] of Object.entries(FIELDS)) select.append(make("option", label, { value: f }));
    select.value = p.suggested_mappings[h] || "";
    const hint = make("small", select.value, { class: "hint" });
    select.addEventListener("change", () => { text(hint, select.value); refreshPayloads(); });
    tr.insertCell().append(select, " ", hint);
    text(tr.insertCell(), (p.sample_rows[0] || [])[i]);
  });
  offerSaved(p.saved_mappings || []);
  const primary = $("primary");
  primary.replaceChildren();
  const emails = p.auto_detected_identifiers.email_columns;
  for (const h of (emails.length ? emails : p.headers)) primary.append(make("option", h, { value: h }));
  primary.onchange = refreshPayloads;
  $("preview").hidden = false;
  refreshPayloads();
}

// Saved mappings: offered for a file with the same columns, applied when picked.
function offerSaved(saved) {
  const select = $("saved-mapping");
  select.replaceChildren(make("option", "Choose…", { value: "" }),
    ...saved.map((m, i) => make("option", m.name, { value: String(i) })));
  select.onchange = () => {
    const chosen = saved[Number(select.value)];
    if (!chosen) return;
    for (const s of document.querySelectorAll("#mapping-table select")) {
      s.value = chosen.field_mappings[s.dataset.column] || "";
      s.dispatchEvent(new Event("change"));
    }
    text($("mapping-saved"), `Columns set as in “${chosen.name}”.`);
  };
  $("saved-row").hidden = !saved.length;
  text($("mapping-saved"), "");
}

$("save-mapping").addEventListener("click", async () => {
  const name = $("mapping-name").value.trim();
  if (!name) { text($("mapping-saved"), "Name the mapping first."); return; }
  try {
    await api("POST", "/leads/import/mappings", { file_id: state.preview.file_id, name,
      field_mappings: startBody().field_mappings });
    text($("mapping-saved"), `Saved as “${name}”: it is offered for the next file with these columns.`);
    $("mapping-name").value = "";
  } catch (e) { text($("mapping-saved"), e.message); }
});

function startBody() {
  const fields = {};
  for (const select of document.querySelectorAll("#mapping-table select")) {
    if (select.value && select.value !== "email") fields[select.dataset.column] = select.value;
  }
  return { file_id: state.preview.file_id, client: $("client").value,
    primary_identifier: { column: $("primary").value, kind: "email" },
    field_mappings: fields, on_duplicate: $("on-duplicate").value,
    allow_no_email: $("allow-no-email").checked,
    notify_url: $("notify-row").hidden ? null : $("notify-url").value.trim() || null };
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
    await refreshSummary(asked);
  }, 200);
}
for (const id of ["client", "on-duplicate", "allow-no-email"]) $(id).addEventListener("change", refreshPayloads);

const ON_DUPLICATE = { skip: "emails the client already has are skipped",
  update: "leads the client already has are updated (empty cells never overwrite)",
  create: "a second lead is created for emails the client already has" };

// The summary before Start: the whole file read as the import would, nothing sent.
async function refreshSummary(asked) {
  const client = $("client");
  if (!client.value) {
    text($("summary"), "Choose the client to import into.");
    $("summary-why").hidden = true;
    return;
  }
  let s;
  try {
    s = await api("POST", "/leads/import/summary", startBody());
  } catch (e) { if (asked === sampleAsked) text($("summary"), e.message); return; }
  if (asked !== sampleAsked) return;  // an answer to an older choice
  const name = client.selectedOptions[0].textContent;
  const parts = [`${n(s.rows)} rows → ${name}: ${n(s.to_send)} to send`];
  if (s.repeated_in_file) parts.push(`${n(s.repeated_in_file)} repeat an email already in the file (skipped)`);
  if (s.rejected) parts.push(`${n(s.rejected)} will be rejected`);
  text($("summary"), `${parts.join(", ")}; ${ON_DUPLICATE[$("on-duplicate").value]}.`);
  const why = $("summary-why");
  why.hidden = !s.rejected;
  const list = $("summary-reasons");
  list.replaceChildren(...s.rejections.map((r) => make("li", `row ${r.row}: ${r.reason}`)));
}

$("start-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  text($("start-error"), "");
  $("start").disabled = true;
  try {
    const job = await api("POST", "/leads/import/start", startBody());
    location.hash = `#/jobs/${job.job_id}`;
  } catch (e) { text($("start-error"), e.message); } finally { $("start").disabled = false; }
});


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
