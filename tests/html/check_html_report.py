#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# DOC: the HTML report of kmem-sim (--html), checked in a real browser.
#
#   check_html_report.py --sim KMEM_SIM --work DIR -- [kmem-sim arguments]
#   check_html_report.py --sim KMEM_SIM --work DIR --four-tib   (a synthetic 4 TiB map)
#   check_html_report.py --sim KMEM_SIM --work DIR --cli
#
# The first form runs `kmem-sim ARGS --json --html DIR/report.html` (one run,
# so the page and the JSON come from the same boot) and checks the page: under
# 2 MiB, nothing external, the embedded report equal to what --json printed;
# then renders it in headless Chromium (--dump-dom for the DOM after the
# script ran, --screenshot for a PNG) and checks that the script finished
# without errors, the screenshot is a real picture, and every number the page
# shows (data-key="path" elements, the tables' rows and cells) equals the JSON.
# The second form checks the command line: --html leaves stdout (text or
# JSON) as it was, and an unwritable FILE is one line on stderr and exit
# status 1.
# A missing Chromium is a failure, not a skip. Python 3 standard library only.
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
failures = []


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


def json_at(report, path):
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
def check_page(page_path, stdout_report):
    size = os.path.getsize(page_path)
    page = open(page_path, encoding="utf-8").read()
    check(size < MAX_BYTES, f"the page is {size} bytes, not under {MAX_BYTES}")
    for bad in ("http://", "https://", "src=", "href=", "@import", "<link", "<iframe"):
        check(bad not in page, f"the page is not self-contained: it contains {bad!r}")
    check(all(u.startswith("url(#") for u in re.findall(r"url\([^)]*\)", page)),
          "the page has a url() to something outside it")
    m = re.search(r'<script type="application/json" id="kmem-data">(.*?)</script>', page, re.S)
    if check(m is not None, "no kmem-data block in the page"):
        check(json.loads(m.group(1)) == stdout_report, "the embedded report differs from what --json printed")
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
                     "boot.window_bytes", "boot.all_online_ns"]
        required += [f"boot.phases.{i}.ns" for i in range(len(r["boot"]["phases"]))]
    if "replay" in r:
        required += ["replay.kmalloc_bytes_kmem", "replay.kmalloc_bytes_linux", "replay.kmalloc_bytes_requested",
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
        check(shown_value(n.text()) == want, f"{k}: the page shows {n.text()!r}, the JSON {want!r}")
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
    size = check_page(page_path, report)
    browser = chromium()
    if not check(browser is not None, "chromium is not installed: the HTML report is tested in headless Chromium "
                                      "(Debian: apt-get install chromium; scripts/deps installs it)"):
        return
    url = "file://" + os.path.abspath(page_path)
    dom_run = run_chromium(browser, work, ["--dump-dom"], url)
    if not check(dom_run.returncode == 0 and "<body" in dom_run.stdout,
                 f"chromium --dump-dom failed ({dom_run.returncode}): {dom_run.stderr[-2000:]}"):
        return
    open(os.path.join(work, "dom.html"), "w", encoding="utf-8").write(dom_run.stdout)
    check_dom(parse_dom(dom_run.stdout), report)
    png = os.path.join(work, "report.png")
    if os.path.exists(png):
        os.remove(png)
    shot = run_chromium(browser, work, ["--screenshot=" + png, "--window-size=1400,2400"], url)
    if check(shot.returncode == 0 and os.path.exists(png), f"no screenshot ({shot.returncode}): {shot.stderr[-2000:]}"):
        w, h, real = png_looks_real(png)
        check((w, h) == (1400, 2400), f"the screenshot is {w}x{h}, not 1400x2400")
        check(real, "the screenshot looks blank")
    print(f"kmem-sim {' '.join(args) or '(default run)'}: page {size} bytes, "
          f"{len(report['map']['ranges'])} ranges, screenshot {png}")


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
    check(res.returncode == 1, f"an unwritable --html FILE exits {res.returncode}, not 1")
    check(res.stderr.startswith("kmem-sim: " + bad + ": ") and res.stderr.count("\n") == 1,
          f"an unwritable --html FILE: stderr is {res.stderr!r}, not one 'kmem-sim: FILE: reason' line")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sim", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--cli", action="store_true")
    ap.add_argument("--four-tib", action="store_true", help="a synthetic 4 TiB, 4-node map (written to --work)")
    ap.add_argument("args", nargs="*")
    o = ap.parse_args()
    os.makedirs(o.work, exist_ok=True)
    if o.cli:
        check_cli(o.sim, o.work)
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
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
