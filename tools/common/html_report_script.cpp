// SPDX-License-Identifier: MIT
//
// DOC: the HTML page of one report (kmem-sim --html): drawReport(D) draws
// every section from the report D (see html_report.h): the summary, a
// demo kernel's CPUs and self-tests, the physical address space (SVG, on
// the non-linear scale the page explains), free memory by buddy order (a
// heat strip), the boot timeline, kmem beside Linux SLUB for a replay, and
// sortable tables. Each number shown from the report carries
// data-key="path.in.the.json".
#include "html_report.h"

namespace kmem::tools {

const char kHtmlScriptReport[] = R"kmem(
// ---- the machine
const TYPES = {
  usable: ["usable RAM", "#3f9e5e"], kernel_reserved: ["kernel reserved", "#2c7f8c"],
  acpi_reclaimable: ["ACPI data", "#e3b23c"], acpi_nvs: ["ACPI NVS", "#e07b39"], persistent: ["persistent", "#8e6cc0"],
  unusable: ["unusable", "#cf4444"], reserved: ["reserved", "#7b8794"],
};
const typeOf = t => TYPES[t] || [t, "#555"];
const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#e15759", "#76b7b2", "#edc948", "#9c755f"];
const nodeColor = n => PALETTE[n % PALETTE.length];
const ZONES = { DMA: "#dfe6ee", DMA32: "#bfcddc", Normal: "#9fb2c7" };
const zoneOf = a => a < K.zone_dma_end ? "DMA" : a < K.zone_dma32_end ? "DMA32" : "Normal";
function drawReport(D) {
const M = D.map, P = D.phys, B = D.boot, E = D.early, S = D.slab, R = D.replay, KN = D.kernel;
const ranges = M.ranges.slice().sort((a, b) => a.start - b.start);
const ramTop = ranges.reduce((t, r) => r.type === "usable" || r.type === "kernel_reserved" ? r.end : t, 0);
// What the boot code mapped before the buddy existed: the window, or all RAM if there is less.
const windowStart = P ? B.window_start : 0, windowEnd = P ? B.window_start + B.window_bytes : 0;
document.title = "kmem report: " + M.name.split("/").pop();
document.getElementById("machine").textContent = M.name;
document.getElementById("subtitle").textContent = `${M.format} map from ${M.source}` +
  (R ? "; a replay of a real Linux boot on kmem" : KN ? `; booted by the ${D.producer.name} demo kernel` :
    P ? "; booted on kmem, no replay" : "; not booted");

// ---- summary
{
  let c = card("Map", `${num("map.entries", M.entries)} ranges, ${num("map.nodes", M.nodes)} NUMA node(s)`) +
    card("Highest address", `<span class="num mono" data-key="map.highest_address">${hex(M.highest_address)}</span>`) +
    card("Usable RAM (map)", bytes("map.usable_bytes", M.usable_bytes)) +
    card("Reserved (map)", bytes("map.reserved_bytes", M.reserved_bytes));
  for (const [t, b] of Object.entries(M.bytes_by_type))
    if (b && t !== "usable" && !(t === "reserved" && b === M.reserved_bytes))
      c += card(typeOf(t)[0], bytes("map.bytes_by_type." + t, b));
  if (P) {
    c += card("Early window", bytes("boot.window_bytes", B.window_bytes) +
      ` <span class="h">from <span class="num mono" data-key="boot.window_start">${hex(B.window_start)}</span></span>`) +
      card("Pages managed by the buddy", pages("phys.managed_pages", P.managed_pages)) +
      card("Free pages after boot", pages("phys.free_pages", P.free_pages)) +
      card("Allocated / reserved pages",
        `${num("phys.allocated_pages", P.allocated_pages)} / ${num("phys.reserved_pages", P.reserved_pages)}`) +
      card("Page descriptors", bytes("phys.metadata_bytes", P.metadata_bytes) +
        ` <span class="h">(${num("phys.metadata_bytes_per_page", P.metadata_bytes_per_page)} per page)</span>`) +
      card("kmalloc works after", nsec("boot.kmalloc_ready_ns", B.kmalloc_ready_ns)) +
      card("All RAM online after", nsec("boot.all_online_ns", B.all_online_ns)) +
      card("Allocations before Running", `${num("early.allocations.length", E.allocations.length)} ` +
        `<span class="h">(${num("early.dropped", E.dropped)} dropped)</span>`) +
      card("Slab caches", `${num("slab.caches.length", S.caches.length)} ` +
        `<span class="h">in ${num("slab.slab_pages", S.slab_pages)} pages</span>`);
  }
  if (R) c += card("kmalloc bytes: kmem / Linux SLUB", `${num("replay.kmalloc_bytes_kmem", R.kmalloc_bytes_kmem)} / ` +
    num("replay.kmalloc_bytes_linux", R.kmalloc_bytes_linux));
  const nodes = M.nodes < 2 ? "" : `<h3>Usable RAM per NUMA node</h3><table id="node-table"><tbody>` +
    Object.entries(M.node_usable_bytes).map(([n, b]) => `<tr><td>node ${esc(n)}</td>` +
      `<td class="n">${num("map.node_usable_bytes." + n, b)}</td><td>bytes</td><td class="n">${human(b)}</td></tr>`)
      .join("") + `</tbody></table>`;
  const skipped = P ? "" : `<p class="note">Nothing was booted: <span id="skipped">${esc(B.skipped)}</span>.</p>`;
  section("summary", "Summary", `<div class="cards">${c}</div>${nodes}${skipped}`);
}

// ---- a demo kernel: its CPUs, firmware, page tables and self-tests
if (KN) {
  const T = KN.selftest, I = T.interrupts, PT = KN.page_tables;
  const k = "kernel.", ks = "kernel.selftest.", ki = "kernel.selftest.interrupts.";
  const firmware = Object.entries(KN.firmware).map(([f, v]) => `${esc(f)} ${num(k + "firmware." + f, v)}`).join(", ");
  const c = card("Architecture", esc(KN.arch)) + card("CPUs", num(k + "cpus.count", KN.cpus.count)) +
    card("Firmware", firmware || "-") +
    card("Self-tests", `<span id="selftest-ok">${T.ok ? "passed" : "FAILED"}</span> ` +
      `<span class="h">check: ${esc(T.check)}</span>`) +
    card("Free pages before / after the tests", `${num(ks + "free_before", T.free_before)} / ` +
      num(ks + "free_after", T.free_after)) +
    card("Pages allocated until memory ran out", `${num(ks + "pages_allocated", T.pages_allocated)} ` +
      `<span class="h">in ${num(ks + "blocks_allocated", T.blocks_allocated)} blocks</span>`) +
    card("Slab objects / freed by another CPU", `${num(ks + "slab_objects", T.slab_objects)} / ` +
      num(ks + "cross_cpu_frees", T.cross_cpu_frees)) +
    card("Wrong objects", num(ks + "errors", T.errors)) +
    card("Pages back from free_bootmem_late", num(ks + "late_freed_pages", T.late_freed_pages)) +
    card("Timer interrupts handled", `${num(ki + "handled", I.handled)} <span class="h">at ${num(ki + "hz", I.hz)} Hz, ` +
      `at least ${num(ki + "min_per_cpu", I.min_per_cpu)} per CPU</span>`) +
    card("Handlers: allocations / frees", `${num(ki + "allocations", I.allocations)} / ${num(ki + "frees", I.frees)}`) +
    card("Handlers: refused / errors", `${num(ki + "failed", I.failed)} / ${num(ki + "errors", I.errors)}`) +
    card("Direct map's page tables", `${num(k + "page_tables.pages", PT.pages)} pages <span class="h">mapping ` +
      `${num(k + "page_tables.pages_1g", PT.pages_1g)} × 1 GiB, ${num(k + "page_tables.pages_2m", PT.pages_2m)} × 2 MiB, ` +
      `${num(k + "page_tables.pages_4k", PT.pages_4k)} × 4 KiB</span>`);
  const F = T.first_failure;
  const failure = F ? `<p class="note failed" id="first-failure">CPU ${int(F.cpu)} found object ${int(F.index)} of CPU ` +
    `${int(F.owner)} (${int(F.size)} bytes) wrong: ${esc(F.why)}</p>` : "";
  const cpus = table("cpu-table", [{ label: "CPU", v: x => x.cpu, num: true }, { label: "node", v: x => x.node, num: true },
    { label: "timer interrupts", v: x => x.timer_interrupts, num: true }], KN.cpus.per_cpu);
  section("kernel", `The ${esc(D.producer.name)} kernel: CPUs and self-tests`,
    `<p class="note">The self-tests ran on every CPU at once with a timer interrupt on each whose handler allocates ` +
    `and frees: pages until memory ran out, slab traffic with frees on other CPUs, then every layer's check().</p>` +
    `<div class="cards">${c}</div>${failure}<h3>Timer interrupts per CPU</h3>${cpus}`);
}

// ---- the physical address space: a strip on a non-linear scale, wrapped into rows like text
{
  // Segments: the map's ranges and the holes between them, cut at the zone limits and the window's end.
  const cuts = [K.zone_dma_end, K.zone_dma32_end].concat(windowEnd ? [windowStart, windowEnd] : [])
    .sort((a, b) => a - b);
  const segs = [];
  const add = (start, end, r) => {
    for (const c of cuts) if (c > start && c < end) { segs.push({ start, end: c, r }); start = c; }
    segs.push({ start, end, r });
  };
  let at = 0;
  for (const r of ranges) {
    if (r.start > at) add(at, r.start, null);
    if (r.end > Math.max(at, r.start)) add(Math.max(at, r.start), r.end, r);
    at = Math.max(at, r.end);
  }
  // Width: MIN px, plus k px for each doubling of the size (4 KiB: one step); a hole half the steps.
  const W = 1232, MIN = 3, ROW = 96;
  const steps = s => (1 + Math.log2(Math.max(s.end - s.start, 4096) / 4096)) * (s.r ? 1 : 0.5);
  const U = segs.reduce((a, s) => a + steps(s), 0) || 1;
  const rows = Math.max(1, Math.ceil((segs.length * MIN + U * 4) / W));
  const k = (rows * W - segs.length * MIN) / U;
  let x = 0;
  for (const s of segs) { s.x0 = x; x += MIN + k * steps(s); s.x1 = x; }
  // Draw [x0, x1) of the strip: one piece per row it crosses; fn(left, right, row's y).
  const pieces = (x0, x1, fn) => {
    let out = "";
    for (let row = Math.floor(x0 / W); row * W < x1 && row < rows; ++row)
      out += fn(Math.max(x0, row * W) - row * W, Math.min(x1, (row + 1) * W) - row * W, row * ROW);
    return out;
  };
  // Neighbouring segments with the same key (node, zone) as one span.
  const spans = key => {
    const out = [];
    for (const s of segs) {
      const kk = key(s), last = out[out.length - 1];
      if (last && last.k === kk) { last.x1 = s.x1; last.end = s.end; }
      else out.push({ k: kk, x0: s.x0, x1: s.x1, start: s.start, end: s.end });
    }
    return out.filter(sp => sp.k !== null);
  };
  const label = (x0, x1, y, s, extra) => x1 - x0 > s.length * 6.5 + 6 ?
    text((x0 + x1) / 2, y, s, ' text-anchor="middle"' + (extra || "")) : "";
  let svg = `<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
    `<rect width="6" height="6" fill="#f1f3f5"/><line x1="0" y1="0" x2="0" y2="6" stroke="#c9ced4" stroke-width="2"/>` +
    `</pattern></defs>`;
  for (const sp of spans(s => s.r ? s.r.node : null))
    svg += pieces(sp.x0, sp.x1, (a, b, y) => rect(a, y, b - a, 12, nodeColor(sp.k),
      `node ${sp.k}: ${memRange(sp.start, sp.end)}`) + label(a, b, y + 10, "node " + sp.k, ' class="in"'));
  for (const sp of spans(s => zoneOf(s.start)))
    svg += pieces(sp.x0, sp.x1, (a, b, y) => rect(a, y + 14, b - a, 14, ZONES[sp.k],
      `ZONE_${sp.k}: ${hex(sp.start)} to ${hex(sp.end)}`) + label(a, b, y + 25, "ZONE_" + sp.k));
  for (const s of segs) {
    const size = s.end - s.start, r = s.r;
    const cut = r && (r.start !== s.start || r.end !== s.end) ?
      `\nthe map's range: ${memRange(r.start, r.end)}, ${human(r.end - r.start)}` : "";
    const tip = (r ? typeOf(r.type)[0] + (r.why ? " (" + r.why + ")" : "") : "hole: no range in the map") +
      `\n${memRange(s.start, s.end)}\n${r ? `node ${r.node}, ` : ""}ZONE_${zoneOf(s.start)}\n` +
      `${human(size)} (${int(size)} bytes)${cut}`;
    svg += pieces(s.x0, s.x1, (a, b, y) => rect(a, y + 30, b - a, 34, r ? typeOf(r.type)[1] : "url(#hatch)", tip,
      ' class="seg"') + (r ? label(a, b, y + 51, human(size), ' class="in"') : ""));
  }
  if (windowEnd) {
    const w0 = segs.find(s => s.start === windowStart) || segs[0], w1 = segs.find(s => s.end === windowEnd);
    svg += pieces(w0.x0, w1.x1, (a, b, y) => rect(a, y + 66, b - a, 6, "#222",
      `the early window: [${hex(windowStart)}, ${hex(windowEnd)}), mapped by the boot code before the buddy exists`));
  }
  let lastX = -1e9; // address labels where there is room
  for (const s of segs) {
    if ((s.x0 - lastX < 84 && Math.floor(s.x0 / W) === Math.floor(lastX / W)) || s.x0 % W > W - 60) continue;
    lastX = s.x0;
    svg += pieces(s.x0, s.x0 + 1, (a, b, y) => `<line x1="${a}" x2="${a}" y1="${y + 30}" y2="${y + 86}" ` +
      `stroke="#555" stroke-width="0.7"/>` + text(a + 2, y + 86, hex(s.start), ' class="addr"'));
  }
  const legend = Object.keys(TYPES).filter(t => ranges.some(r => r.type === t))
    .map(t => swatch(typeOf(t)[1], typeOf(t)[0])).join("") + `<span><span class="sw hole"></span>hole (no range)</span>` +
    Object.keys(ZONES).map(z => swatch(ZONES[z], "ZONE_" + z)).join("") +
    [...new Set(ranges.map(r => r.node))].map(n => swatch(nodeColor(n), "node " + n)).join("") +
    (windowEnd ? swatch("#222", `early window (${human(windowEnd - windowStart)})`) : "");
  const mono = v => `<span class="mono">${hex16(v)}</span>`;
  const mapTable = table("map-table", [
    { label: "#", v: (r, i) => i, num: true }, { label: "start", v: r => r.start, f: mono },
    { label: "end (last byte)", v: r => r.end - 1, f: mono }, { label: "size", v: r => r.end - r.start, f: human, num: true },
    { label: "type", v: r => typeOf(r.type)[0] }, { label: "node", v: r => r.node, num: true },
    { label: "why", v: r => r.why || "" }], ranges);
  section("address-space", "Physical address space",
    `<p class="note scale"><b>Scale: not linear.</b> Address space is mostly holes, so each range is drawn ${MIN} px ` +
    `wide plus a fixed step for every doubling of its size (a 4 KiB range gets one step, 1 GiB 19 steps); holes ` +
    `(hatched: addresses no range covers) get half of that. Ranges are cut at the zone limits (16 MiB, 4 GiB) and at ` +
    `the ends of the early window so that each shows. The strip reads like text: lowest address top left, ${rows} ` +
    `row(s). Labels inside ranges are their sizes; hover a range for its addresses, type, node and zone.</p>` +
    `<div class="legend">${legend}</div>` + svgBox("map-svg", "the physical address space", W, rows * ROW, svg) +
    `<p class="info" id="range-info">Hover a range for its addresses, type, node and size.</p>` +
    `<details><summary>The map's ${ranges.length} ranges as a table</summary>${mapTable}</details>`);
  const info = document.getElementById("range-info");
  document.getElementById("map-svg").addEventListener("mouseover", e => {
    const t = e.target.closest("rect");
    if (t && t.querySelector("title")) info.textContent = t.querySelector("title").textContent;
  });
}

// ---- free memory by buddy order: a heat strip, buddyinfo, the zones
if (P) {
  const orders = K.max_order + 1, CW = 96, LW = 150, RH = 26, block = o => K.page_size * 2 ** o;
  let svg = "";
  for (let o = 0; o < orders; ++o)
    svg += text(LW + o * CW + CW / 2, 12, "order " + o, ' text-anchor="middle"') +
      text(LW + o * CW + CW / 2, 25, short(block(o)) + " blocks", ' text-anchor="middle" class="h"');
  P.zones.forEach((z, zi) => {
    const y = 30 + zi * RH, name = `node ${z.node} ${z.zone}`;
    svg += text(0, y + 17, name);
    z.free_area.forEach((count, o) => {
      const free = count * 2 ** o, share = z.free_pages ? free / z.free_pages : 0;
      const fill = `hsl(18, ${share ? 80 : 0}%, ${97 - 55 * Math.sqrt(share)}%)`;
      svg += rect(LW + o * CW, y, CW - 2, RH - 2, fill, `${name}, order ${o} (${human(block(o))} blocks): ` +
        `${int(count)} free blocks, ${int(free)} pages (${human(free * K.page_size)}), ` +
        `${(share * 100).toFixed(1)}% of the zone's free memory`) +
        text(LW + o * CW + CW / 2, y + 16, int(count), ' text-anchor="middle"' + (share > 0.45 ? ' class="in"' : ""));
    });
    svg += text(LW + orders * CW + 6, y + 17, human(z.free_pages * K.page_size) + " free");
  });
  const buddy = table("buddyinfo", [{ label: "node", v: z => z.node, num: true }, { label: "zone", v: z => z.zone }]
    .concat(Array.from({ length: orders }, (_, o) => ({ label: "" + o, v: z => z.free_area[o], num: true }))), P.zones);
  const zones = table("zoneinfo", [
    { label: "node", v: z => z.node, num: true }, { label: "zone", v: z => z.zone },
    { label: "managed pages", v: z => z.managed_pages, num: true }, { label: "free pages", v: z => z.free_pages, num: true },
    { label: "lazy pages", v: z => z.lazy_pages, num: true }, { label: "min", v: z => z.min, num: true },
    { label: "low", v: z => z.low, num: true }, { label: "high", v: z => z.high, num: true }], P.zones);
  section("free-memory", "Free memory by buddy order after boot",
    `<p class="note">Each cell is one zone's free blocks of one order (the number is the count of blocks, as in ` +
    `/proc/buddyinfo); the darker the cell, the larger its share of the zone's free memory.</p>` +
    svgBox("heat-svg", "free blocks per zone and order", LW + orders * CW + 110, 34 + P.zones.length * RH, svg) +
    `<h3>buddyinfo (free blocks per order)</h3>${buddy}<h3>Zones (pages)</h3>${zones}`);
}

// ---- the boot timeline: phases on a linear time axis from firmware_map()
if (P) {
  const W = 1232, LW = 170, RH = 24;
  let t = 0;
  const phases = B.phases.map((p, i) => { const s = { name: p.name, start: t, ns: p.ns, i }; t += p.ns; return s; });
  const T = Math.max(t, 1), boot0 = phases.length ? phases[0].ns : 0; // bootstrap began when FirmwareMap ended
  const X = ns => LW + (W - LW - 90) * ns / T;
  const raw = T / 8, p10 = 10 ** Math.floor(Math.log10(raw)), step = [1, 2, 5, 10].map(m => m * p10).find(s => s >= raw);
  const reached = B.direct_map || [];
  const ye = 18 + phases.length * RH, yd = ye + RH, H = yd + (reached.length ? RH : 0) + RH + 30;
  let svg = "";
  for (let a = 0; a <= T; a += step)
    svg += `<line x1="${X(a)}" x2="${X(a)}" y1="14" y2="${H - 30}" stroke="#e3e6ea"/>` +
      text(X(a), 10, dur(a), ' text-anchor="middle" class="h"');
  for (const s of phases) {
    const y = 18 + s.i * RH, x0 = X(s.start), w = Math.max(2, X(s.start + s.ns) - x0);
    svg += text(0, y + 15, s.name) + rect(x0, y, w, RH - 6, PALETTE[s.i % PALETTE.length],
      `${s.name}: ${int(s.ns)} ns (${dur(s.ns)}), from ${dur(s.start)}`) + text(x0 + w + 4, y + 14, dur(s.ns));
  }
  svg += text(0, ye + 15, "allocations before Running");
  for (const a of E.allocations)
    svg += rect(X(a.ns) - 1, ye + 2, 2, RH - 8, a.failed ? "#cf4444" : "#333",
      `${a.caller}: ${a.api}, ${int(a.size)} bytes at ${dur(a.ns)}${a.failed ? ", failed" : ""}`);
  if (reached.length) {
    svg += text(0, yd + 15, "direct map reached");
    for (const d of reached)
      svg += rect(X(d.ns) - 1, yd + 2, 2, RH - 8, "#3f7f3f",
        `[${hex(d.start)}, ${hex(d.end)}) mapped and online at ${dur(d.ns)} (${human(d.end - d.start)})`);
  }
  [["kmalloc works", boot0 + B.kmalloc_ready_ns], ["all RAM online", boot0 + B.all_online_ns]].forEach(([m, at], i) => {
    const right = X(at) > W - 250, y = H - 16 + i * 12;
    svg += `<line x1="${X(at)}" x2="${X(at)}" y1="14" y2="${y + 2}" stroke="#cf4444" stroke-dasharray="3 2"/>` +
      text(X(at) + (right ? -3 : 3), y, `${m} (${dur(at)})`, ' class="mark"' + (right ? ' text-anchor="end"' : ""));
  });
  const rows = phases.map(s => ({ ...s, key: `boot.phases.${s.i}.ns` }));
  if (B.map_read_ns !== undefined)
    rows.unshift({ name: "input read and parsed (kmem-sim, before FirmwareMap)", start: null, ns: B.map_read_ns,
      key: "boot.map_read_ns" });
  const tab = `<table id="phase-table"><thead><tr><th>phase</th><th class="n">begins at</th>` +
    `<th class="n">duration (ns)</th><th class="n">duration</th><th class="n">share of boot</th></tr></thead><tbody>` +
    rows.map(r => `<tr><td>${esc(r.name)}</td><td class="n">${r.start === null ? "" : dur(r.start)}</td>` +
      `<td class="n">${num(r.key, r.ns)}</td><td class="n">${dur(r.ns)}</td>` +
      `<td class="n">${r.start === null ? "" : (100 * r.ns / T).toFixed(1) + "%"}</td></tr>`).join("") +
    `</tbody></table>`;
  section("timeline", "Boot timeline",
    `<p class="note">Each phase as kmem left it, on a linear time axis from firmware_map(); a tick for each ` +
    `allocation made before Running (red: failed), a tick for each RAM range when the direct map reached it ` +
    `(mapped and online), and when kmalloc first worked and all RAM was online.</p>` +
    svgBox("timeline-svg", "the boot phases on a time axis", W, H, svg) + tab);
}

// ---- kmem beside Linux SLUB: the replayed kmalloc requests, bytes per size class
if (R) {
  const C = R.kmalloc_classes, W = 1232, H = 300, LW = 70, top = 16, bottom = 40;
  const max = Math.max(1, ...C.map(c => Math.max(c.bytes_requested, c.bytes_linux, c.bytes_kmem)));
  const gw = (W - LW) / Math.max(1, C.length), bw = Math.min(18, (gw - 8) / 3);
  const Y = v => top + (H - top - bottom) * (1 - v / max);
  const bars = [["bytes_requested", "requested", "#b8c0c8"], ["bytes_linux", "Linux SLUB", "#4e79a7"],
    ["bytes_kmem", "kmem", "#3f9e5e"]];
  let svg = "";
  for (let i = 0; i <= 4; ++i)
    svg += `<line x1="${LW}" x2="${W}" y1="${Y(max * i / 4)}" y2="${Y(max * i / 4)}" stroke="#e3e6ea"/>` +
      text(LW - 6, Y(max * i / 4) + 4, human(max * i / 4), ' text-anchor="end" class="h"');
  C.forEach((c, i) => {
    const gx = LW + i * gw + (gw - 3 * bw) / 2;
    bars.forEach(([key, name, fill], j) => {
      const y = Y(c[key]);
      svg += rect(gx + j * bw, y, bw - 1, Math.max(1, H - bottom - y), fill, `kmalloc-${short(c.linux_class)}: ` +
        `${name} ${int(c[key])} bytes (${human(c[key])}), ${int(c.allocs)} allocations`);
    });
    svg += text(LW + i * gw + gw / 2, H - bottom + 14, short(c.linux_class), ' text-anchor="middle"');
  });
  svg += text(LW + (W - LW) / 2, H - 6, "Linux kmalloc size class", ' text-anchor="middle" class="h"');
  const classes = table("kmalloc-classes", [
    { label: "Linux class", v: c => c.linux_class, num: true }, { label: "allocations", v: c => c.allocs, num: true },
    { label: "bytes requested", v: c => c.bytes_requested, num: true },
    { label: "bytes Linux SLUB", v: c => c.bytes_linux, num: true }, { label: "bytes kmem", v: c => c.bytes_kmem, num: true },
    { label: "kmem / Linux", v: c => c.bytes_linux ? c.bytes_kmem / c.bytes_linux : 0,
      f: v => (100 * v).toFixed(1) + "%", num: true }], C);
  const counters = Object.entries(R).filter(([, v]) => typeof v === "number")
    .map(([k, v]) => `<tr><td>${esc(k)}</td><td class="n">${num("replay." + k, v)}</td></tr>`).join("");
  const fails = R.failures.length ? `<h3>Failures</h3><ul>${R.failures.map(f => `<li>${esc(f)}</li>`).join("")}</ul>` : "";
  section("slub", "kmem beside Linux SLUB (the replayed kmalloc requests)", `<div class="cards">` +
    card("kmalloc bytes requested", bytes("replay.kmalloc_bytes_requested", R.kmalloc_bytes_requested)) +
    card("kmalloc bytes, Linux SLUB", bytes("replay.kmalloc_bytes_linux", R.kmalloc_bytes_linux)) +
    card("kmalloc bytes, kmem", bytes("replay.kmalloc_bytes_kmem", R.kmalloc_bytes_kmem)) +
    card("kmem / Linux (kmalloc)", num("replay.kmalloc_ratio", R.kmalloc_ratio)) +
    card("All bytes requested", bytes("replay.bytes_requested", R.bytes_requested)) +
    card("All bytes, Linux", bytes("replay.bytes_allocated_linux", R.bytes_allocated_linux)) +
    card("All bytes, kmem", bytes("replay.bytes_allocated_kmem", R.bytes_allocated_kmem)) + `</div>` +
    `<div class="legend">${bars.map(b => swatch(b[2], b[1])).join("")}</div>` +
    svgBox("slub-svg", "kmalloc bytes per size class, kmem beside Linux SLUB", W, H, svg) +
    `<h3>Bytes per kmalloc size class</h3>${classes}${fails}` +
    `<details><summary>Every replay counter</summary><table id="replay-counters"><tbody>${counters}</tbody></table>` +
    `</details>`);
}

// ---- the allocations made before Running, and slabinfo
if (P) {
  const n = E.allocations.length;
  const early = table("early-table", [
    { label: "#", v: (a, i) => i, num: true }, { label: "phase", v: a => a.phase }, { label: "api", v: a => a.api },
    { label: "caller", v: a => a.caller, wrap: true }, { label: "size", v: a => a.size, num: true },
    { label: "align", v: a => a.align, num: true }, { label: "served by", v: a => a.served_by },
    { label: "address", v: a => a.failed ? -1 : a.pa, f: (v, a) => a.failed ? "FAILED" : `<span class="mono">${hex(v)}</span>` },
    { label: "within", v: a => a.min || a.max ? `[${hex(a.min)}, ${a.max ? hex(a.max) : "-"})` : "", wrap: true },
    { label: "node", v: a => a.nid, f: (v, a) => v < 0 ? "any" : (a.exact_nid ? "= " : "~ ") + v, num: true },
    { label: "raw", v: a => a.raw ? "yes" : "" }, { label: "at", v: a => a.ns, f: dur, num: true }],
    E.allocations, a => a.failed ? "failed" : "");
  section("early", "Allocations before Running (what was allocated before the page tables existed, and by whom)",
    `<p class="note">${num("early.allocations.length", n)} allocation${n === 1 ? "" : "s"} recorded, ` +
    `${num("early.dropped", E.dropped)} dropped. Click a column header to sort.</p>${early}`);
  const slab = table("slabinfo", [
    { label: "name", v: c => c.name }, { label: "object size", v: c => c.object_size, num: true },
    { label: "active objects", v: c => c.active, num: true }, { label: "objects", v: c => c.objects, num: true },
    { label: "objects per slab", v: c => c.objects_per_slab, num: true },
    { label: "pages per slab", v: c => c.pages_per_slab, num: true }, { label: "slabs", v: c => c.slabs, num: true }],
  S.caches);
  section("slab", "slabinfo",
    `<p class="note">${num("slab.caches.length", S.caches.length)} caches in ${num("slab.slab_pages", S.slab_pages)} ` +
    `slab pages; ${num("slab.large_allocations", S.large_allocations)} large kmalloc allocations in ` +
    `${num("slab.large_pages", S.large_pages)} pages straight from the buddy. Click a column header to sort.</p>${slab}`);
}
}
)kmem";

} // namespace kmem::tools
