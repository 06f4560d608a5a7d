// SPDX-License-Identifier: MIT
//
// DOC: the HTML report's style sheet and the script's common part and end
// (see html_report.h).
//
// The script reads the embedded report (a kmem report, the object of
// kmem-sim --json, in the "kmem-data" block; for a comparison the second in
// "kmem-data-b") and kmem's constants ("kmem-constants"). The common part
// formats numbers and builds tables and SVG; drawReport()
// (html_report_script.cpp) or drawCompare() (html_compare_script.cpp) draws
// the sections. A number shown from a report is marked with
// data-key="path.in.the.json" ("a:path" and "b:path" in a comparison;
// tests/html compares those with the JSON). The end sets
// document.body.dataset.status to "ok"; any script error sets "error: ...".
// No network, no external assets.
#include "html_report.h"

namespace kmem::tools {

const char kHtmlReportStyle[] = R"kmem(
:root { --fg: #1d2329; --muted: #5f6b76; --line: #d9dee3; --panel: #f5f7f9; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1280px; padding: 14px 24px 32px; color: var(--fg); background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 21px; margin: 0 0 2px; }
h1 span { font-weight: 500; word-break: break-all; }
h2 { font-size: 17px; margin: 26px 0 8px; padding-bottom: 3px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 14px 0 4px; }
#subtitle, .note, footer, .h { color: var(--muted); }
.h { font-size: 12px; }
.note { margin: 4px 0 8px; max-width: 1100px; }
footer { margin-top: 28px; font-size: 12px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); gap: 8px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 5px 10px; }
.card .k { font-size: 12px; color: var(--muted); }
.card .v { font-size: 15px; font-variant-numeric: tabular-nums; }
.mono, .info { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; }
svg { display: block; max-width: 100%; height: auto; font: 11px system-ui, sans-serif; margin: 6px 0; }
svg text { fill: var(--fg); }
svg text.in { fill: #fff; }
svg text.h, svg text.addr { fill: var(--muted); font-size: 10px; }
svg text.mark { fill: #b3261e; font-size: 10px; }
svg text { pointer-events: none; }
svg rect:hover { stroke: #000; stroke-width: 1.5; }
.info { font-size: 12px; background: var(--panel); padding: 4px 8px; border-radius: 4px; min-height: 1.6em; white-space: pre-wrap; }
.legend { display: flex; flex-wrap: wrap; gap: 3px 16px; font-size: 12px; margin: 6px 0; }
.sw { display: inline-block; width: 14px; height: 10px; margin-right: 4px; vertical-align: -1px; border: 1px solid rgba(0, 0, 0, .25); }
.sw.hole { background: repeating-linear-gradient(45deg, #f1f3f5 0 3px, #c9ced4 3px 5px); }
table { border-collapse: collapse; font-size: 12px; font-variant-numeric: tabular-nums; margin: 4px 0 10px; }
th, td { padding: 2px 8px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th { background: var(--panel); }
td.n, th.n { text-align: right; }
td.w { white-space: normal; overflow-wrap: anywhere; min-width: 10em; }
p.failed { color: #b3261e; }
th.sort { cursor: pointer; user-select: none; }
th.sort::after { content: " \2195"; color: #a8b0b8; }
th[aria-sort=ascending]::after { content: " \2191"; color: var(--fg); }
th[aria-sort=descending]::after { content: " \2193"; color: var(--fg); }
tr.failed td { color: #b3261e; }
tbody tr:hover td { background: #fbf6e9; }
details summary { cursor: pointer; color: var(--muted); margin: 6px 0; }
)kmem";

const char kHtmlScriptCommon[] = R"kmem(
"use strict";
window.onerror = function (msg, src, line) {
  document.body.dataset.status = "error: " + msg + " (line " + line + ")";
};
(function () {
const D = JSON.parse(document.getElementById("kmem-data").textContent);
const other = document.getElementById("kmem-data-b"), D2 = other ? JSON.parse(other.textContent) : null;
const K = JSON.parse(document.getElementById("kmem-constants").textContent);
const main = document.getElementById("report");

// ---- formatting. A number shown from the report carries data-key: its path in the JSON.
const esc = s => String(s).replace(/[&<>"']/g, c => "&#" + c.charCodeAt(0) + ";");
// Integers with thousands separators; other numbers (ratios) rounded to 3 decimals.
const int = n => Number.isInteger(n) ? String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",") : n.toFixed(3);
const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
function human(b) {
  let v = b, u = 0;
  while (v >= 1024 && u < 5) { v /= 1024; ++u; }
  return u ? v.toFixed(2) + " " + UNITS[u] : v + " B";
}
const short = b => human(b).replace(".00 ", " ");
const hex = n => "0x" + BigInt(n).toString(16);
const hex16 = n => "0x" + BigInt(n).toString(16).padStart(16, "0");
const memRange = (start, end) => `[mem ${hex16(start)}-${hex16(end - 1)}]`;
function dur(ns) {
  if (ns >= 1e9) return (ns / 1e9).toFixed(2) + " s";
  if (ns >= 1e6) return (ns / 1e6).toFixed(2) + " ms";
  if (ns >= 1e3) return (ns / 1e3).toFixed(1) + " \u00b5s";
  return ns + " ns";
}
const num = (key, v) => `<span class="num" data-key="${key}">${int(v)}</span>`;
const bytes = (key, v) => `${num(key, v)} bytes <span class="h">${human(v)}</span>`;
const pages = (key, v) => `${num(key, v)} <span class="h">${human(v * K.page_size)}</span>`;
const nsec = (key, v) => `${num(key, v)} ns <span class="h">${dur(v)}</span>`;
const card = (k, v) => `<div class="card"><div class="k">${k}</div><div class="v">${v}</div></div>`;
const swatch = (fill, label) => `<span><span class="sw" style="background:${fill}"></span>${label}</span>`;
const rect = (x, y, w, h, fill, tip, extra) =>
  `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="${fill}"${extra || ""}><title>${esc(tip)}</title></rect>`;
const text = (x, y, s, extra) => `<text x="${x}" y="${y}"${extra || ""}>${esc(s)}</text>`;
const svgBox = (id, label, w, h, body) =>
  `<svg id="${id}" role="img" aria-label="${label}" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}">${body}</svg>`;
function section(id, title, html) {
  main.insertAdjacentHTML("beforeend", `<section id="${id}"><h2>${title}</h2>${html}</section>`);
}

// A table sortable by clicking a header. cols: {label, v: (row, index) -> raw value (sort key),
// f: (value, row) -> html (default: the number or the text), num: right-aligned, wrap: long text may wrap}.
function table(id, cols, rows, rowClass) {
  const head = cols.map((c, i) => `<th class="sort${c.num ? " n" : ""}" data-col="${i}">${c.label}</th>`).join("");
  const body = rows.map((r, ri) => {
    const cells = cols.map(c => {
      const v = c.v(r, ri);
      const shown = c.f ? c.f(v, r) : typeof v === "number" ? int(v) : esc(v);
      return `<td${c.num ? ' class="n"' : c.wrap ? ' class="w"' : ""} data-v="${esc(v)}">${shown}</td>`;
    });
    const cls = rowClass ? rowClass(r) : "";
    return `<tr${cls ? ` class="${cls}"` : ""}>${cells.join("")}</tr>`;
  });
  return `<table id="${id}" class="sortable"><thead><tr>${head}</tr></thead><tbody>${body.join("")}</tbody></table>`;
}
main.addEventListener("click", e => {
  const th = e.target.closest("table.sortable th[data-col]");
  if (!th) return;
  const col = +th.dataset.col, tbody = th.closest("table").tBodies[0];
  const dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
  th.parentNode.querySelectorAll("th").forEach(h => h.removeAttribute("aria-sort"));
  th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
  const key = tr => { const v = tr.cells[col].dataset.v; return v !== "" && !isNaN(v) ? +v : v; };
  const rows = Array.from(tbody.rows).sort((a, b) => {
    const x = key(a), y = key(b);
    return dir * (typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y)));
  });
  rows.forEach(r => tbody.appendChild(r));
});
)kmem";

// Last: draw, and say that the script finished.
const char kHtmlScriptEnd[] = R"kmem(
if (D2) drawCompare(D, D2);
else drawReport(D);
// What a 1280 px window needs (tests/html checks that nothing is wider).
document.body.dataset.scrollWidth = document.documentElement.scrollWidth;
document.body.dataset.status = "ok";
})();
)kmem";

} // namespace kmem::tools
