// The campaign builder: choices from GET /v1/campaigns/form, checks and numbers from POST /v1/campaigns/preview
// (the campaign DAG's own validation, server side), launch with POST /v1/campaigns.
"use strict";

let form = null;          // GET /v1/campaigns/form
let previewed = false;    // the current values passed the preview
const $ = (id) => document.getElementById(id);

function checkboxes(container, name, values, checked) {
  for (const value of values) {
    container.append(el("label", {}, el("input", { type: "checkbox", name, value, checked: checked.includes(value),
      onchange: changed }), " " + value.replace("_", " ")));
  }
}

function ticked(name) {
  return [...document.querySelectorAll(`input[name=${name}]:checked`)].map((box) => box.value);
}

function segmentRow(segment) {
  return el("tr", {},
    el("td", {}, el("input", { type: "checkbox", name: "segment", value: segment.segment_name, onchange: changed,
      "aria-label": segment.segment_name })),
    el("td", {}, segment.segment_name),
    el("td", { class: "num" }, number(segment.users)),
    el("td", { class: "num" }, number(100 * segment.user_share, 1) + " %"),
    el("td", { class: "num" }, number(segment.revenue) + " " + form.currency),
    el("td", { class: "num" }, segment.avg_monetary === null ? "" : number(segment.avg_monetary, 2)),
    el("td", {}, segment.top_category || ""),
    el("td", { class: "num" }, el("input", { type: "number", min: 0, max: 100, step: "any", class: "share",
      "data-segment": segment.segment_name, oninput: changed, "aria-label": "budget share " + segment.segment_name })));
}

function select(options, value, label) {
  const node = el("select", { onchange: changed, "aria-label": label });
  for (const option of options) node.append(el("option", { value: option, selected: option === value }, option));
  return node;
}

function removeButton() {
  return el("button", { type: "button", onclick: (event) => { event.target.closest("tr").remove(); changed(); } }, "Remove");
}

function addCoupon(coupon) {
  const next = coupon || form.defaults.coupons[$("coupons").tBodies[0].rows.length % form.defaults.coupons.length];
  const row = el("tr", {},
    el("td", {}, el("input", { class: "c-name", value: next.name, size: 12, oninput: changed, "aria-label": "coupon name" })),
    el("td", {}, select(form.coupon_kinds, next.kind, "coupon kind")),
    el("td", {}, el("input", { class: "c-value", type: "number", step: "any", value: next.value, oninput: changed, "aria-label": "coupon value" })),
    el("td", {}, el("input", { class: "c-min", type: "number", step: "any", value: next.min_spend, oninput: changed, "aria-label": "minimum spend" })),
    el("td", {}, el("input", { class: "c-cost", type: "number", step: "any", value: next.expected_cost, oninput: changed, "aria-label": "expected cost" })),
    el("td", {}, removeButton()));
  row.querySelector("select").className = "c-kind";
  if (!coupon) {  // a second pct10 would clash: number the name
    const names = [...document.querySelectorAll("#coupons .c-name")].map((input) => input.value);
    let name = next.name, i = 2;
    while (names.includes(name)) name = `${next.name}_${i++}`;
    row.querySelector(".c-name").value = name;
  }
  $("coupons").tBodies[0].append(row);
  changed();
}

function addCreative(rule) {
  const next = rule || { segment: "*", scene: "*", lifecycle_stage: "*", theme: "picked_for_you", format: "carousel" };
  const row = el("tr", {},
    el("td", {}, el("input", { class: "r-segment", value: next.segment || "*", size: 12, oninput: changed, "aria-label": "rule segment" })),
    el("td", {}, select(["*", ...form.scenes], next.scene || "*", "rule scene")),
    el("td", {}, select(["*", ...form.lifecycle_stages], next.lifecycle_stage || "*", "rule stage")),
    el("td", {}, el("input", { class: "r-theme", value: next.theme, size: 16, oninput: changed, "aria-label": "theme" })),
    el("td", {}, el("input", { class: "r-format", value: next.format, size: 16, oninput: changed, "aria-label": "format" })),
    el("td", {}, removeButton()));
  const [scene, stage] = row.querySelectorAll("select");
  scene.className = "r-scene"; stage.className = "r-stage";
  $("creatives").tBodies[0].append(row);
}

function toLocal(iso) { return iso.replace("Z", "").slice(0, 16); }
function toUtc(local) { return local ? (local.length === 16 ? local + ":00Z" : local + "Z") : null; }
function numberOrNull(value) { return value === "" ? null : Number(value); }

function values() {
  const rows = (id) => [...$(id).tBodies[0].rows];
  const shares = {};
  for (const input of document.querySelectorAll("input.share")) {
    if (input.value !== "") shares[input.dataset.segment] = Number(input.value) / 100;
  }
  const segments = ticked("segment");
  return {
    campaign_id: $("campaign_id").value.trim(), name: $("name").value, objective: $("objective").value,
    segments: segments.length ? segments : ["all"], lifecycle_stages: ticked("stage"), channels: ticked("channel"),
    coupons: rows("coupons").map((row) => ({ name: row.querySelector(".c-name").value.trim(),
      kind: row.querySelector(".c-kind").value, value: numberOrNull(row.querySelector(".c-value").value),
      min_spend: numberOrNull(row.querySelector(".c-min").value) ?? 0,
      expected_cost: numberOrNull(row.querySelector(".c-cost").value) })),
    budget: numberOrNull($("budget").value), segment_budget_shares: shares,
    max_coupons_per_user: numberOrNull($("max_coupons_per_user").value),
    holdout_fraction: $("holdout").value === "" ? null : Number($("holdout").value) / 100,
    test_share: $("test_share").value === "" ? null : Number($("test_share").value) / 100,
    frequency_cap: numberOrNull($("frequency_cap").value),
    start_time: toUtc($("start_time").value), end_time: toUtc($("end_time").value),
    creatives: rows("creatives").map((row) => ({ segment: row.querySelector(".r-segment").value.trim() || "*",
      scene: row.querySelector(".r-scene").value, lifecycle_stage: row.querySelector(".r-stage").value,
      theme: row.querySelector(".r-theme").value.trim(), format: row.querySelector(".r-format").value.trim() })),
    dry_run: false,
  };
}

function clearErrors() {
  for (const node of document.querySelectorAll("[data-error]")) node.textContent = "";
  for (const node of document.querySelectorAll(".invalid")) node.classList.remove("invalid");
  $("form-error").textContent = "";
}

function showError(field, message) {
  const key = field.split(/[.[]/)[0];
  const target = document.querySelector(`[data-error="${key}"]`);
  (target || $("form-error")).textContent = message;
  const input = document.querySelector(`[data-field="${key}"]`);
  if (input) input.classList.add("invalid");
}

// The holdout's range is the DAG's (HOLDOUT_RANGE in campaigns/params.py): checked as it is typed.
function holdoutProblem() {
  const [low, high] = form.holdout_range.map((bound) => bound * 100);
  const text = $("holdout").value;
  const value = Number(text);
  if (text === "" || !Number.isFinite(value)) return `Enter the holdout as a percentage between ${low} and ${high}.`;
  if (value < low || value > high) return `The holdout must be between ${low} % and ${high} % of the audience; got ${value} %.`;
  return "";
}

function refreshLaunch() {
  const problem = holdoutProblem();
  $("holdout-error").textContent = problem;
  $("holdout").classList.toggle("invalid", Boolean(problem));
  $("launch").disabled = Boolean(problem) || !previewed;
}

function changed() {
  previewed = false;
  refreshLaunch();
}

function fillTable(id, rows) {
  const body = $(id).tBodies[0];
  body.replaceChildren(...rows.map((cells) => el("tr", {}, ...cells.map((cell, i) =>
    el("td", { class: i ? "num" : "" }, cell)))));
}

function showPreview(p) {
  const money = (value) => number(value, 2) + " " + p.currency;
  $("pv-eligible").textContent = number(p.eligible);
  $("pv-holdout").textContent = number(p.holdout) + ` (${number(100 * p.holdout_fraction, 1)} % target)`;
  $("pv-treated").textContent = number(p.treated);
  $("pv-coupons").textContent = number(p.coupons.most_coupons);
  $("pv-cost").textContent = money(p.coupons.cost_at_most);
  $("pv-revenue").textContent = p.coupons.expected_incremental_revenue;
  $("pv-budget").textContent = `Budget ${money(p.coupons.budget)}: ` + (p.coupons.budget_binds
    ? `covers ${number(p.coupons.most_coupons)} of the ${number(p.coupons.coupons_wanted)} coupons wanted at the cheapest offer (${money(p.coupons.cheapest_cost)}); the run gives them to the customers with the highest expected value first.`
    : `enough for every treated customer's coupons (${number(p.coupons.coupons_wanted)}). Which offer each customer gets is decided by the run.`);
  fillTable("pv-funnel", p.funnel.map((s) => [s.step.replaceAll("_", " "), number(s.excluded), number(s.remaining)]));
  fillTable("pv-segments", p.segments.map((s) => [s.segment_name, number(s.eligible), number(s.holdout),
    number(s.treated), s.budget === null ? "" : money(s.budget)]));
  $("pv-channels").textContent = "Eligible customers by channel: " + Object.entries(p.eligible_by_channel)
    .map(([channel, users]) => `${channel} ${number(users)}`).join(", ");
  $("preview-result").hidden = false;
}

async function preview() {
  clearErrors();
  refreshLaunch();
  if (holdoutProblem()) return;
  const answer = await api("POST", "/v1/campaigns/preview", values());
  if (!answer.ok) {
    const detail = answer.data && answer.data.detail;
    if (detail && detail.field) showError(detail.field, detail.message);
    else $("form-error").textContent = typeof detail === "string" ? detail : `preview failed (HTTP ${answer.status})`;
    $("preview-result").hidden = true;
    return;
  }
  showPreview(answer.data);
  previewed = true;
  refreshLaunch();
}

async function launch() {
  if ($("launch").disabled) return;
  $("launch").disabled = true;
  const answer = await api("POST", "/v1/campaigns", values());
  const box = $("launch-result");
  if (!answer.ok) {
    const detail = answer.data && answer.data.detail;
    if (detail && detail.field) showError(detail.field, detail.message);
    else $("form-error").textContent = typeof detail === "string" ? detail : `launch failed (HTTP ${answer.status})`;
    refreshLaunch();
    return;
  }
  box.replaceChildren(el("p", {}, `Launched: run ${answer.data.run_id}. `,
    el("a", { href: answer.data.link, target: "_blank" }, "Open it in Airflow"), " · ",
    el("a", { href: "/campaigns" }, "See all campaigns")));
}

async function load() {
  const answer = await api("GET", "/v1/campaigns/form");
  if (answer.status === 401 || answer.status === 403) return false;
  form = answer.data;
  for (const node of document.querySelectorAll(".currency")) node.textContent = form.currency;
  $("objective").replaceChildren(...form.objectives.map((o) => el("option", { value: o }, o.replace("_", " "))));
  $("segments").tBodies[0].replaceChildren(...form.segments.map(segmentRow));
  checkboxes($("stages"), "stage", form.lifecycle_stages, []);
  checkboxes($("channels"), "channel", form.channels, form.defaults.channels);
  $("consent-note").textContent = form.consent_channels.join(", ");
  const [low, high] = form.holdout_range.map((bound) => bound * 100);
  $("holdout").min = low; $("holdout").max = high;
  $("holdout-range").textContent = `between ${low} % and ${high} %`;
  $("start_time").value = toLocal(form.defaults.start_time);
  $("end_time").value = toLocal(form.defaults.end_time);
  for (const rule of form.defaults.creatives) addCreative(rule);
  for (const input of document.querySelectorAll("input[data-field], select[data-field]")) input.addEventListener("input", changed);
  $("add-coupon").addEventListener("click", () => addCoupon());
  $("add-creative").addEventListener("click", () => { addCreative(); changed(); });
  $("preview").addEventListener("click", preview);
  $("launch").addEventListener("click", launch);
  $("builder").hidden = false;
  refreshLaunch();
  return true;
}

signedIn(load);
