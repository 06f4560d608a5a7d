#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# DOC: the HTML report of kmem-sim (--html), checked in a real browser.
#
#   check_html_report.py --sim KMEM_SIM --work DIR -- [kmem-sim arguments]
#   check_html_report.py --sim KMEM_SIM --work DIR --four-tib   (a synthetic 4 TiB map)
#   check_html_report.py --sim KMEM_SIM --work DIR --compare    (two reports side by side)
#   check_html_report.py --sim KMEM_SIM --work DIR --qemu-kernel ELF --arch x86_64|aarch64
#   check_html_report.py --sim KMEM_SIM --work DIR --cli
#
# The first form runs `kmem-sim ARGS --json --html DIR/report.html` (one run,
# so the page and the JSON come from the same boot) and checks the page: under
# 2 MiB, nothing external, the embedded report equal to what --json printed
# and valid against docs/report-schema.json; then renders it in headless
# Chromium at 1280x2400 (--dump-dom for the DOM after the script ran,
# --screenshot for a PNG) and checks that the script finished without errors,
# nothing is wider than the 1280 px window, the screenshot is a real picture,
# and every number the page shows (data-key="path" elements, the tables' rows
# and cells) equals the JSON (a fraction: to the decimals shown).
# --compare writes the default run's and the built-in machine's reports, then
# draws them side by side (kmem-sim --from A --compare B --html) and checks the
# page the same way ("a:path" and "b:path" keys, the grouped tables).
# --qemu-kernel boots a demo kernel under QEMU, and checks the page of its
# serial log (kmem-sim --from serial.log) and of it beside the default run.
# --cli checks the command line: --html leaves stdout (text or JSON) as it
# was, and an unwritable FILE is one line on stderr and exit status 2 (a bad argument).
# Without Chromium the page's own checks still run and the test then skips
# (exit status 77, which CTest reports as skipped) with a message; with
# KMEM_REQUIRE_CHROMIUM=1 in the environment (.ci/run) it fails instead.
# Python 3 standard library, and validate_report.py (python3-jsonschema).
import argparse
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

MAX_BYTES = 2 << 20
WINDOW = (1280, 2400)
SKIP = 77
VALIDATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "schema", "validate_report.py")
failures = []
skipped = []


def check(ok, what):
    if not ok:
        failures.append(what)
    return ok


def run_sim(sim, args):
    return subprocess.run([sim] + args, capture_output=True, text=True, timeout=120)


# ---- a small DOM from Chromium's --dump-dom
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.walk()

    def find_all(self, tag=None, **attrs):
        return [n for n in self.walk() if (tag is None or n.tag == tag) and
                all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]


class DomBuilder(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.cur = Node("#document", {}, None)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse_dom(text):
    b = DomBuilder()
    b.feed(text)
    b.close()
    return b.root


# ---- values shown on the page, back to numbers
def shown_value(text):
    t = text.strip().replace(",", "")
    if t.startswith("0x"):
        return int(t, 16)
    return float(t) if re.search(r"[.eE]", t) else int(t)


def same_number(text, want):
    """The page shows `want`: exactly, or a fraction rounded to the decimals shown."""
    got = shown_value(text)
    if isinstance(want, float) and not float(want).is_integer():
        decimals = len(text.strip().split(".")[1]) if "." in text else 0
        return abs(got - want) <= 0.5 * 10 ** -decimals + 1e-12
    return got == want


def json_at(report, path):
    """The value at "a.b.0.c" ("x.length": an array's length) in a report."""
    v = report
    for part in path.split("."):
        if isinstance(v, list):
            v = len(v) if part == "length" else v[int(part)]
        else:
            v = v[part]
    return v


# ---- Chromium
def chromium():
    for name in (os.environ.get("KMEM_CHROMIUM"), "chromium", "chromium-browser"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def run_chromium(browser, work, extra, url, timeout=50):
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=work)  # a new, empty profile each time
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--no-first-run", "--hide-scrollbars", "--disable-dev-shm-usage",
           "--user-data-dir=" + profile] + extra + [url]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(cmd, -1, "", f"chromium did not finish in {timeout} s")
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def png_looks_real(path):
    """Width, height, and whether the pixels hold more than a blank page."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return 0, 0, False
    width, height = struct.unpack(">II", data[16:24])
    idat, pos = b"", 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    pixels = zlib.decompress(idat)
    return width, height, len(set(pixels)) >= 64  # text, colours and anti-aliasing: most byte values


# ---- the checks of one input
def validate(paths):
    res = subprocess.run([sys.executable, VALIDATE] + paths, capture_output=True, text=True, timeout=120)
    check(res.returncode == 0, f"not valid against docs/report-schema.json: {res.stderr.strip()[-2000:]}")


def check_page(page_path, stdout_report, other=None):
    size = os.path.getsize(page_path)
    page = open(page_path, encoding="utf-8").read()
    check(size < MAX_BYTES, f"the page is {size} bytes, not under {MAX_BYTES}")
    for bad in ("http://", "https://", "src=", "href=", "@import", "<link", "<iframe"):
        check(bad not in page, f"the page is not self-contained: it contains {bad!r}")
    check(all(u.startswith("url(#") for u in re.findall(r"url\([^)]*\)", page)),
          "the page has a url() to something outside it")
    for block, want in (("kmem-data", stdout_report), ("kmem-data-b", other)):
        m = re.search(r'<script type="application/json" id="' + block + r'">(.*?)</script>', page, re.S)
        if want is None:
            check(m is None, f"a {block} block in a page of one report")
        elif check(m is not None, f"no {block} block in the page"):
            check(json.loads(m.group(1)) == want, f"the embedded {block} report differs from the JSON report")
    return size


def table_rows(dom, table_id):
    tables = dom.find_all("table", id=table_id)
    if not check(len(tables) == 1, f"table #{table_id} is missing"):
        return []
    return [[td.text() for td in tr.find_all("td")] for tr in tables[0].find_all("tbody")[0].find_all("tr")]


def check_table(dom, table_id, items, columns):
    """columns: (column index, item -> expected value) pairs compared with the shown cells."""
    rows = table_rows(dom, table_id)
    check(len(rows) == len(items), f"#{table_id}: {len(rows)} rows, the JSON has {len(items)}")
    for i, (row, item) in enumerate(zip(rows, items)):
        for col, expect in columns:
            want = expect(item)
            got = row[col] if isinstance(want, str) else shown_value(row[col])
            check(got == want, f"#{table_id} row {i} column {col}: the page shows {row[col]!r}, the JSON {want!r}")


def check_dom(dom, r):
    bodies = dom.find_all("body")
    status = bodies[0].attrs.get("data-status") if bodies else None
    if not check(status == "ok", f"the page's script did not finish: data-status={status!r}"):
        return
    shown = dom.find_all(None)
    keyed = [n for n in shown if "data-key" in n.attrs]
    required = ["map.usable_bytes", "map.reserved_bytes", "map.entries", "map.nodes", "map.highest_address"]
    if "phys" in r:
        required += ["phys.managed_pages", "phys.free_pages", "early.allocations.length", "slab.caches.length",
                     "boot.window_bytes", "boot.window_start", "boot.all_online_ns", "phys.metadata_bytes_per_page"]
        required += [f"boot.phases.{i}.ns" for i in range(len(r["boot"]["phases"]))]
    if "kernel" in r:
        required += ["kernel.cpus.count", "kernel.selftest.free_before", "kernel.selftest.free_after",
                     "kernel.selftest.interrupts.handled", "kernel.selftest.interrupts.min_per_cpu",
                     "kernel.selftest.interrupts.allocations", "kernel.page_tables.pages"]
        required += ["kernel.firmware." + f for f in r["kernel"]["firmware"]]
    if "replay" in r:
        required += ["replay.kmalloc_ratio", "replay.kmalloc_bytes_kmem", "replay.kmalloc_bytes_linux", "replay.kmalloc_bytes_requested",
                     "replay.bytes_allocated_kmem", "replay.bytes_allocated_linux", "replay.bytes_requested"]
    keys = {n.attrs["data-key"] for n in keyed}
    for k in required:
        check(k in keys, f"the page does not show {k}")
    for n in keyed:
        k = n.attrs["data-key"]
        try:
            want = json_at(r, k)
        except (KeyError, IndexError, ValueError):
            check(False, f"the page shows {k}, which is not in the JSON")
            continue
        check(same_number(n.text(), want), f"{k}: the page shows {n.text()!r}, the JSON {want!r}")
        if isinstance(want, float) and not want.is_integer():
            shown = n.text().strip()
            check("." in shown and len(shown.split(".")[1]) <= 3, f"{k}: {shown!r} is not rounded to 3 decimals")
    page_text = dom.text()
    check("Scale: not linear" in page_text, "the page does not say what scale the address space is drawn to")
    ranges = sorted(r["map"]["ranges"], key=lambda x: x["start"])
    check_table(dom, "map-table", ranges,
                [(1, lambda x: x["start"]), (2, lambda x: x["end"] - 1), (5, lambda x: x["node"])])
    svg = dom.find_all("svg", id="map-svg")
    if check(len(svg) == 1, "no picture of the address space"):
        tips = [t.text() for t in svg[0].find_all("title")]
        for x in ranges:
            tip = f"[mem 0x{x['start']:016x}-0x{x['end'] - 1:016x}]"
            check(any(tip in t for t in tips), f"no hover text for the range {tip}")
    if "phys" in r:
        zones = r["phys"]["zones"]
        orders = len(zones[0]["free_area"]) if zones else 0
        check_table(dom, "buddyinfo", zones, [(0, lambda z: z["node"]), (1, lambda z: z["zone"])] +
                    [(2 + o, lambda z, o=o: z["free_area"][o]) for o in range(orders)])
        check_table(dom, "zoneinfo", zones, [(2, lambda z: z["managed_pages"]), (3, lambda z: z["free_pages"])])
        check(len(dom.find_all("svg", id="heat-svg")) == 1, "no heat strip of free memory")
        check(len(dom.find_all("svg", id="timeline-svg")) == 1, "no boot timeline")
        check_table(dom, "early-table", r["early"]["allocations"],
                    [(2, lambda a: a["api"]), (3, lambda a: a["caller"]), (4, lambda a: a["size"])])
        check_table(dom, "slabinfo", r["slab"]["caches"],
                    [(0, lambda c: c["name"]), (1, lambda c: c["object_size"]), (2, lambda c: c["active"]),
                     (3, lambda c: c["objects"]), (6, lambda c: c["slabs"])])
    else:
        check(r["boot"]["skipped"] in page_text, "the page does not say why nothing was booted")
    if "kernel" in r:
        k = r["kernel"]
        check_table(dom, "cpu-table", k["cpus"]["per_cpu"],
                    [(0, lambda c: c["cpu"]), (1, lambda c: c["node"]), (2, lambda c: c["timer_interrupts"])])
        ok = dom.find_all(id="selftest-ok")
        check(len(ok) == 1 and ok[0].text() == ("passed" if k["selftest"]["ok"] else "FAILED"),
              "the page does not say whether the self-tests passed")
    if "replay" in r:
        check_table(dom, "kmalloc-classes", r["replay"]["kmalloc_classes"],
                    [(0, lambda c: c["linux_class"]), (1, lambda c: c["allocs"]), (3, lambda c: c["bytes_linux"]),
                     (4, lambda c: c["bytes_kmem"])])
        check(len(dom.find_all("svg", id="slub-svg")) == 1, "no bar chart of kmem beside Linux SLUB")


def check_input(sim, work, args):
    page_path = os.path.join(work, "report.html")
    if os.path.exists(page_path):
        os.remove(page_path)
    res = run_sim(sim, args + ["--json", "--html", page_path])
    if not check(res.returncode == 0, f"kmem-sim {' '.join(args)} exited {res.returncode}: {res.stderr.strip()}"):
        return
    report = json.loads(res.stdout)
    json_path = os.path.join(work, "report.json")
    open(json_path, "w").write(res.stdout)
    validate([json_path])
    size = check_page(page_path, report)
    dom = render(work, page_path)
    if dom is not None:
        check_dom(dom, report)
    print(f"kmem-sim {' '.join(args) or '(default run)'}: page {size} bytes, "
          f"{len(report['map']['ranges'])} ranges" + ("" if dom is None else f", screenshot {work}/report.png"))
    return report


# ---- two reports side by side
def compare_rows(a, b):
    """What --compare groups: (the allocations before Running by function, the slab caches by name), in page order."""
    sites, caches = {}, {}
    for i, r in enumerate((a, b)):
        for e in r.get("early", {}).get("allocations", []):
            if not e["failed"]:
                g = sites.setdefault(e["caller"].split("+")[0], [[0, 0], [0, 0]])
                g[i][0] += 1
                g[i][1] += e["size"]
        for c in r.get("slab", {}).get("caches", []):
            caches.setdefault(c["name"], [None, None])[i] = c["active"]
    site_rows = [(f"{n} ({' / '.join(str(x[0]) if x[0] else '-' for x in g)})",
                  [x[1] if x[0] else None for x in g]) for n, g in sites.items()]
    return site_rows, list(caches.items())


def check_compare_dom(dom, a, b):
    bodies = dom.find_all("body")
    status = bodies[0].attrs.get("data-status") if bodies else None
    if not check(status == "ok", f"the page's script did not finish: data-status={status!r}"):
        return
    keyed = [n for n in dom.find_all(None) if "data-key" in n.attrs]
    keys = {n.attrs["data-key"] for n in keyed}
    for side, r in (("a", a), ("b", b)):
        for k in ["map.usable_bytes", "map.reserved_bytes"] + (["phys.managed_pages", "boot.all_online_ns"] + [
                f"boot.phases.{i}.ns" for i in range(len(r["boot"]["phases"]))] if "phys" in r else []):
            check(f"{side}:{k}" in keys, f"the page does not show {side}:{k}")
    for n in keyed:
        side, _, k = n.attrs["data-key"].partition(":")
        if not check(side in ("a", "b"), f"a data-key without a: or b: in a comparison: {n.attrs['data-key']}"):
            continue
        try:
            want = json_at(a if side == "a" else b, k)
        except (KeyError, IndexError, ValueError):
            check(False, f"the page shows {side}:{k}, which is not in that report")
            continue
        check(same_number(n.text(), want), f"{side}:{k}: the page shows {n.text()!r}, the JSON {want!r}")
    sites, caches = compare_rows(a, b)
    shown = lambda v: "-" if v is None else v
    check_table(dom, "compare-early-table", sites,
                [(0, lambda x: x[0]), (1, lambda x: shown(x[1][0])), (2, lambda x: shown(x[1][1]))])
    check_table(dom, "compare-slab-table", caches,
                [(0, lambda x: x[0]), (1, lambda x: shown(x[1][0])), (2, lambda x: shown(x[1][1]))])
    check(len(dom.find_all("svg", id="compare-svg")) == 1, "no bars of the boot phases")


def check_compare(sim, work, a_path, b_path):
    sys.path.insert(0, os.path.dirname(VALIDATE))
    from validate_report import report_text
    a, b = (json.loads(report_text(p)) for p in (a_path, b_path))
    page_path = os.path.join(work, "compare.html")
    res = run_sim(sim, ["--from", a_path, "--compare", b_path, "--html", page_path])
    if not check(res.returncode == 0, f"kmem-sim --from {a_path} --compare {b_path} exited {res.returncode}: "
                                      f"{res.stderr.strip()}"):
        return
    for side, r in (("A", a), ("B", b)):
        check(f"kmem: {side}: {r['producer']['name']}" in res.stdout, f"the text does not name report {side}")
    if "phys" in a and "phys" in b:
        m = re.search(r"^  pages managed +(\d+) +(\d+)", res.stdout, re.M)
        check(m is not None and (int(m.group(1)), int(m.group(2))) == (a["phys"]["managed_pages"],
                                                                      b["phys"]["managed_pages"]),
              "the text's pages managed row differs from the reports")
    size = check_page(page_path, a, b)
    dom = render(work, page_path)
    if dom is not None:
        check_compare_dom(dom, a, b)
    print(f"kmem-sim --from {os.path.basename(a_path)} --compare {os.path.basename(b_path)}: page {size} bytes")


# ---- a demo kernel's serial log
QEMU = {
    "x86_64": "qemu-system-x86_64 -accel tcg -M q35 -m 2G -smp 2 -display none -serial stdio "
              "-device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot -kernel {}",
    "aarch64": "qemu-system-aarch64 -M virt,gic-version=3 -cpu cortex-a57 -semihosting -m 1G -smp 2 "
               "-display none -serial stdio -kernel {}",
}


def boot_kernel(work, kernel, arch):
    """Boot the kernel under QEMU; its serial log (None if it did not boot to its success status, 33)."""
    cmd = QEMU[arch].format(kernel).split()
    try:
        res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        check(False, f"{' '.join(cmd)}: no exit in 60 s")
        return None
    log = os.path.join(work, "serial.log")
    open(log, "w").write(res.stdout)
    return log if check(res.returncode == 33, f"{' '.join(cmd)} exited {res.returncode}, not 33: "
                                               f"{(res.stdout + res.stderr)[-2000:]}") else None


def render(work, page_path):
    """The page's DOM after its script ran in headless Chromium, and a screenshot; None without Chromium."""
    browser = chromium()
    if browser is None:
        what = ("chromium is not installed: the page was checked, but not drawn in a browser "
                "(Debian: apt-get install chromium; scripts/deps installs it)")
        if os.environ.get("KMEM_REQUIRE_CHROMIUM") == "1":
            check(False, what + "; KMEM_REQUIRE_CHROMIUM=1 makes that a failure")
        else:
            skipped.append(what)
        return None
    url = "file://" + os.path.abspath(page_path)
    size = f"--window-size={WINDOW[0]},{WINDOW[1]}"
    dom_run = run_chromium(browser, work, ["--dump-dom", size], url)
    if not check(dom_run.returncode == 0 and "<body" in dom_run.stdout,
                 f"chromium --dump-dom failed ({dom_run.returncode}): {dom_run.stderr[-2000:]}"):
        return None
    stem = os.path.splitext(page_path)[0]
    open(stem + ".dom.html", "w", encoding="utf-8").write(dom_run.stdout)
    dom = parse_dom(dom_run.stdout)
    bodies = dom.find_all("body")
    width = bodies[0].attrs.get("data-scroll-width") if bodies else None
    check(width is not None and int(width) <= WINDOW[0],
          f"the page is {width} px wide: it does not fit a {WINDOW[0]} px window")
    png = stem + ".png"
    if os.path.exists(png):
        os.remove(png)
    shot = run_chromium(browser, work, ["--screenshot=" + png, size], url)
    if check(shot.returncode == 0 and os.path.exists(png), f"no screenshot ({shot.returncode}): {shot.stderr[-2000:]}"):
        w, h, real = png_looks_real(png)
        check((w, h) == WINDOW, f"the screenshot is {w}x{h}, not {WINDOW[0]}x{WINDOW[1]}")
        check(real, "the screenshot looks blank")
    return dom


def check_cli(sim, work):
    plain = run_sim(sim, ["--map-only"])
    page = os.path.join(work, "map-only.html")
    with_html = run_sim(sim, ["--map-only", "--html", page])
    check(plain.returncode == 0 and with_html.returncode == 0, "kmem-sim --map-only failed")
    check(plain.stdout == with_html.stdout and plain.stdout.startswith("kmem: memory map"),
          "--html changed the text report on stdout")
    check(os.path.getsize(page) > 0 if os.path.exists(page) else False, "--html wrote no file")
    plain = run_sim(sim, ["--map-only", "--json"])
    with_html = run_sim(sim, ["--map-only", "--json", "--html", page])
    check(plain.returncode == 0 and plain.stdout == with_html.stdout, "--html changed the JSON report on stdout")
    bad = os.path.join(work, "no-such-dir", "report.html")
    res = run_sim(sim, ["--map-only", "--html", bad])
    check(res.returncode == 2, f"an unwritable --html FILE exits {res.returncode}, not 2")
    check(res.stderr.startswith("kmem-sim: " + bad + ": ") and res.stderr.count("\n") == 1,
          f"an unwritable --html FILE: stderr is {res.stderr!r}, not one 'kmem-sim: FILE: reason' line")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sim", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--cli", action="store_true")
    ap.add_argument("--four-tib", action="store_true", help="a synthetic 4 TiB, 4-node map (written to --work)")
    ap.add_argument("--compare", action="store_true", help="the default run beside the built-in machine")
    ap.add_argument("--qemu-kernel", help="a demo kernel to boot under QEMU and read back from its serial log")
    ap.add_argument("--arch", choices=sorted(QEMU), default="x86_64")
    ap.add_argument("args", nargs="*")
    o = ap.parse_args()
    os.makedirs(o.work, exist_ok=True)
    if o.cli:
        check_cli(o.sim, o.work)
    elif o.compare:
        paths = [os.path.join(o.work, n) for n in ("a.json", "b.json")]
        for path, args in zip(paths, ([], ["--builtin"])):
            res = run_sim(o.sim, args + ["--json"])
            check(res.returncode == 0, f"kmem-sim {' '.join(args)} --json exited {res.returncode}")
            open(path, "w").write(res.stdout)
        validate(paths)
        check_compare(o.sim, o.work, *paths)
    elif o.qemu_kernel:
        log = boot_kernel(o.work, o.qemu_kernel, o.arch)
        if log:
            validate([log])
            report = check_input(o.sim, o.work, ["--from", log])
            res = run_sim(o.sim, ["--json"])
            run = os.path.join(o.work, "default-run.json")
            open(run, "w").write(res.stdout)
            if report is not None:
                check_compare(o.sim, o.work, log, run)
    else:
        args = o.args
        if o.four_tib:
            text = ("BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
                    "BIOS-e820: [mem 0x0000000000100000-0x000000007fffffff] usable\n"
                    "BIOS-e820: [mem 0x0000000100000000-0x000003ffffffffff] usable\n")
            for n in range(4):
                text += f"ACPI: SRAT: Node {n} PXM {n} [mem {n << 40:#x}-{((n + 1) << 40) - 1:#x}]\n"
            path = os.path.join(o.work, "4tib.txt")
            open(path, "w").write(text)
            args = ["--map", path] + args
        check_input(o.sim, o.work, args)
    for f in failures:
        print("FAIL: " + f, file=sys.stderr)
    if failures:
        return 1
    for s in sorted(set(skipped)):
        print("SKIPPED: " + s)
    return SKIP if skipped else 0


if __name__ == "__main__":
    sys.exit(main())
