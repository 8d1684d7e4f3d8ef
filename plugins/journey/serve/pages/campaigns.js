// The campaigns list: GET /v1/campaigns; each run links to its HTML report served over HTTP.
"use strict";

function day(iso) { return iso ? iso.slice(0, 16).replace("T", " ") + " UTC" : ""; }

function lift(measured) {
  if (!measured || measured.rate_lift === null || measured.rate_lift === undefined) return "";
  const points = (value) => number(100 * value, 2);
  return `${points(measured.rate_lift)} pts (${points(measured.low)} to ${points(measured.high)})` +
    (measured.provisional ? " provisional" : "");
}

function runRow(run, currency) {
  const report = run.report
    ? el("a", { href: `/campaigns/${encodeURIComponent(run.campaign_id)}/${encodeURIComponent(run.run_id)}/report` }, "Open report")
    : el("span", { class: "hint" }, run.published_at ? "not written yet" : "after the run");
  return el("tr", {},
    el("td", {}, el("b", {}, run.name || run.campaign_id), el("br"), el("span", { class: "hint" }, `${run.campaign_id} · ${run.run_id}`)),
    el("td", {}, el("span", { class: `status ${run.status}` }, run.status)),
    el("td", {}, day(run.start_time)), el("td", {}, day(run.end_time)),
    el("td", { class: "num" }, run.budget_used === undefined ? "" : `${number(run.budget_used, 2)} of ${number(run.budget, 2)} ${currency}`),
    el("td", { class: "num" }, run.eligible_users === undefined ? "" : number(run.eligible_users)),
    el("td", {}, lift(run.lift)), el("td", {}, report));
}

async function load() {
  const answer = await api("GET", "/v1/campaigns");
  if (answer.status === 401 || answer.status === 403) return false;
  const data = answer.data;
  document.getElementById("source").textContent = data.airflow
    ? "Status from Airflow." : "Airflow is not reachable: status from the published campaigns (scheduled, live, ended).";
  document.getElementById("runs").tBodies[0].replaceChildren(...data.runs.map((run) => runRow(run, data.currency)));
  document.getElementById("list").hidden = false;
  return true;
}

signedIn(load);
