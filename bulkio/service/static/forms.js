// bulkio's web page: the export and purge forms (after app.js).
"use strict";

// The fields a lead has, to tick; the id first (it says which lead a row is).
const EXPORT_FIELDS = { id: "LeadGenius id", ...Object.fromEntries(Object.entries(FIELDS)
  .filter(([f]) => !["city", "country", "industry"].includes(f))) };
for (const [f, label] of Object.entries(EXPORT_FIELDS)) {
  const box = make("input", null, { type: "checkbox", id: `export-field-${f}`, value: f });
  const row = make("div", null, { class: "check" });
  row.append(box, make("label", label, { for: box.id }), " ", make("small", f, { class: "hint" }));
  $("export-fields").append(row);
}

$("export-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  text($("export-error"), "");
  const fields = [...document.querySelectorAll("#export-fields input:checked")].map((b) => b.value);
  const client = $("export-client").value;
  const choice = $("export-format").value;
  const csv = choice.startsWith("csv");
  try {
    const job = await api("POST", "/exports", { kind: $("export-kind").value,
      clients: client ? [client] : null, fields: fields.length ? fields : null,
      format: csv ? "csv" : "ndjson", separator: csv ? choice.slice(3) : ",", bom: csv });
    location.hash = `#/jobs/${job.job_id}`;
  } catch (e) { text($("export-error"), e.message); }
});

$("purge-count").addEventListener("click", async () => {
  text($("purge-error"), "");
  try {
    const plan = await api("POST", "/purges", { client: $("purge-client").value, dry_run: true });
    text($("purge-plan"), `${plan.client} holds ${n(plan.leads)} leads. Type ${plan.client} ` +
      "below to delete them all.");
  } catch (e) { text($("purge-error"), e.message); }
});

$("purge-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  text($("purge-error"), "");
  const slug = $("purge-client").value;
  if ($("purge-confirm").value.trim() !== slug) {
    text($("purge-error"), slug ? `That is not the client's name as LeadGenius knows it: type ${slug}.`
      : "Choose the client to purge.");
    return;
  }
  try {
    const job = await api("POST", "/purges", { client: $("purge-client").value,
      confirm: $("purge-confirm").value.trim() });
    $("purge-confirm").value = "";
    location.hash = `#/jobs/${job.job_id}`;
  } catch (e) { text($("purge-error"), e.message); }
});
