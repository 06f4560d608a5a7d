// SPDX-License-Identifier: MIT
//
// DOC: the HTML page of two reports side by side (kmem-sim --compare FILE
// --html): drawCompare(A, B) draws, from the two embedded reports, what the
// text of --compare prints - the boot phases (bars and a table), the memory
// totals, the allocations before Running grouped by the function that made
// them, and the slab caches by name - each row with both values and B's
// change from A. A number taken from a report carries data-key="a:path" or
// "b:path"; "-" where a report has no such value.
#include "html_report.h"

namespace kmem::tools {

const char kHtmlScriptCompare[] = R"kmem(
function drawCompare(A, Bx) {
  const both = [A, Bx], tag = ["a", "b"], fill = ["#4e79a7", "#f28e2b"];
  const label = r => r.producer.name + (r.producer.version ? " " + r.producer.version : "");
  const get = (r, path) => path.split(".").reduce((v, k) => v === undefined || v === null ? undefined :
    Array.isArray(v) && k === "length" ? v.length : v[k], r);
  const shown = (i, path) => { const v = get(both[i], path); return v === undefined ? "-" : num(tag[i] + ":" + path, v); };
  const plain = v => v === undefined ? "-" : int(v);
  const change = (a, b) => a === undefined || b === undefined ? "" :
    (b >= a ? "+" : "\u2212") + int(Math.abs(b - a)) + (a ? ` (${(b / a).toFixed(2)}\u00d7)` : "");
  // rows: {name, a, b (numbers or undefined), ah, bh (their html)}
  const compareTable = (id, first, rows) => `<table id="${id}"><thead><tr><th>${first}</th><th class="n">A</th>` +
    `<th class="n">B</th><th class="n">B \u2212 A (B / A)</th></tr></thead><tbody>` + rows.map(r =>
      `<tr><td class="w">${esc(r.name)}</td><td class="n">${r.ah}</td><td class="n">${r.bh}</td>` +
      `<td class="n">${change(r.a, r.b)}</td></tr>`).join("") + `</tbody></table>`;
  const byPath = (name, path) => ({ name, a: get(A, path), b: get(Bx, path), ah: shown(0, path), bh: shown(1, path) });

  document.title = "kmem reports compared";
  document.getElementById("machine").textContent =
    `${A.map.name.split("/").pop()} (A) beside ${Bx.map.name.split("/").pop()} (B)`;
  document.getElementById("subtitle").textContent = both.map((r, i) => `${"AB"[i]}: ${label(r)}, ` +
    `${r.map.format} map from ${r.map.source}` + (r.phys ? "" : ", not booted")).join("; ");

  // ---- the reports
  const who = both.map((r, i) => `<tr><td>${"AB"[i]}</td><td>${esc(label(r))}</td><td class="w">${esc(r.map.name)}</td>` +
    `<td>${esc(r.map.format)}</td><td>${r.kernel ? esc(r.kernel.arch) + ", " + shown(i, "kernel.cpus.count") + " CPUs" :
      r.replay ? "a replayed Linux boot" : r.phys ? "booted" : "not booted: " + esc(r.boot.skipped)}</td></tr>`);
  section("compare-reports", "The two reports", `<table id="compare-reports"><thead><tr><th></th><th>written by</th>` +
    `<th>map</th><th>format</th><th>boot</th></tr></thead><tbody>${who.join("")}</tbody></table>`);

  // ---- the boot phases: two bars per phase on one linear axis
  const names = [];
  both.forEach(r => (r.phys ? r.boot.phases : []).forEach(p => { if (!names.includes(p.name)) names.push(p.name); }));
  const phaseRow = name => {
    const at = both.map(r => r.phys ? r.boot.phases.findIndex(p => p.name === name) : -1);
    return { name, a: at[0] < 0 ? undefined : A.boot.phases[at[0]].ns, b: at[1] < 0 ? undefined : Bx.boot.phases[at[1]].ns,
      ah: at[0] < 0 ? "-" : shown(0, `boot.phases.${at[0]}.ns`), bh: at[1] < 0 ? "-" : shown(1, `boot.phases.${at[1]}.ns`) };
  };
  const phases = names.map(phaseRow).concat([byPath("kmalloc ready", "boot.kmalloc_ready_ns"),
    byPath("all RAM online", "boot.all_online_ns")]);
  const W = 1232, LW = 150, RH = 34, max = Math.max(1, ...phases.flatMap(r => [r.a || 0, r.b || 0]));
  let svg = "";
  phases.forEach((r, i) => {
    const y = 6 + i * RH;
    svg += text(0, y + 17, r.name);
    [r.a, r.b].forEach((v, j) => {
      if (v === undefined) return;
      const w = Math.max(1, (W - LW - 110) * v / max);
      svg += rect(LW, y + j * 14, w, 12, fill[j], `${"AB"[j]}: ${r.name} ${int(v)} ns (${dur(v)})`) +
        text(LW + w + 4, y + j * 14 + 10, `${"AB"[j]} ${dur(v)}`, ' class="h"');
    });
  });
  section("compare-phases", "Boot phases (ns)",
    `<p class="note">Each phase's duration in A and B on one linear axis; then when kmalloc first worked and when ` +
    `all RAM was online, from the start of bootstrap.</p><div class="legend">${swatch(fill[0], "A")}` +
    `${swatch(fill[1], "B")}</div>` + svgBox("compare-svg", "the boot phases of A and B", W, 10 + phases.length * RH, svg) +
    compareTable("compare-phase-table", "phase", phases));

  // ---- memory
  const totals = [["usable bytes (map)", "map.usable_bytes"], ["reserved bytes (map)", "map.reserved_bytes"],
    ["NUMA nodes", "map.nodes"], ["early window bytes", "boot.window_bytes"], ["pages managed", "phys.managed_pages"],
    ["free pages", "phys.free_pages"], ["allocated pages", "phys.allocated_pages"],
    ["reserved pages", "phys.reserved_pages"], ["page descriptor bytes", "phys.metadata_bytes"],
    ["slab pages", "slab.slab_pages"], ["large kmalloc pages", "slab.large_pages"],
    ["page-table pages", "kernel.page_tables.pages"], ["allocations before Running", "early.allocations.length"]];
  section("compare-memory", "Memory", compareTable("compare-memory-table", "", totals.map(([n, p]) => byPath(n, p))));

  // ---- the allocations before Running, by the function that made them
  const sites = new Map();
  both.forEach((r, i) => (r.early ? r.early.allocations : []).forEach(e => {
    if (e.failed) return;
    const s = e.caller.split("+")[0];
    if (!sites.has(s)) sites.set(s, [{ n: 0, bytes: 0 }, { n: 0, bytes: 0 }]);
    sites.get(s)[i].n += 1;
    sites.get(s)[i].bytes += e.size;
  }));
  const siteRows = [...sites].map(([name, g]) => {
    const v = g.map((x, i) => both[i].early && x.n ? x : undefined);
    return { name: `${name} (${v.map(x => x ? x.n : "-").join(" / ")})`, a: v[0] && v[0].bytes, b: v[1] && v[1].bytes,
      ah: plain(v[0] && v[0].bytes), bh: plain(v[1] && v[1].bytes) };
  });
  section("compare-early", "Allocations before Running, by caller (bytes)",
    `<p class="note">The allocations that succeeded, grouped by the function that made them (a Linux call site ` +
    `without its offset); in brackets how many in A / B.</p>` + compareTable("compare-early-table", "caller", siteRows));

  // ---- slab caches by name
  const caches = new Map();
  both.forEach((r, i) => (r.slab ? r.slab.caches : []).forEach((c, ci) => {
    if (!caches.has(c.name)) caches.set(c.name, [undefined, undefined]);
    caches.get(c.name)[i] = ci;
  }));
  const cacheRows = [...caches].map(([name, at]) => ({ name, a: at[0] === undefined ? undefined : A.slab.caches[at[0]].active,
    b: at[1] === undefined ? undefined : Bx.slab.caches[at[1]].active,
    ah: at[0] === undefined ? "-" : shown(0, `slab.caches.${at[0]}.active`),
    bh: at[1] === undefined ? "-" : shown(1, `slab.caches.${at[1]}.active`) }));
  section("compare-slab", "Slab caches (objects allocated)", compareTable("compare-slab-table", "cache", cacheRows));
}
)kmem";

} // namespace kmem::tools
