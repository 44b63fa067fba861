// bulkio's web page: the export and purge forms (after app.js).
"use strict";

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
