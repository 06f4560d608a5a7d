#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Generate the binary memory-map fixtures from the real text maps.

The binary parsers (UEFI descriptor arrays, Multiboot 1 and 2) are tested on
buffers built from maps that real machines printed, so the tests can check
that a binary parse and the text parse of the same machine agree:

  data/memmaps/lenovo-g50-amd-laptop-uefi-insyde.efi.txt
      -> tests/data/binary/lenovo-g50.efi       56 EFI_MEMORY_DESCRIPTORs, stride 48
  data/memmaps/qemu-q35-seabios-8g.txt
      -> tests/data/binary/qemu-q35-8g.mb1      Multiboot 1 mmap buffer (entry size 20)
      -> tests/data/binary/qemu-q35-8g.mb2      Multiboot 2 boot information, as GRUB
                                                lays it out (load base, cmdline, loader
                                                name, meminfo, bootdev, mmap, ACPI, end)
  data/linux-boot/linux-6.1-x86_64-qemu-1g-2cpu.log
      -> tests/data/binary/qemu-1g.mb2-tag      a bare Multiboot 2 memory-map tag

and the fuzz seeds under tests/fuzz/seeds/{efi,multiboot,detect}/ (the EFI
fuzz target reads desc_size and desc_version from its first two bytes).

Usage: scripts/gen-binary-maps.py [--check]   (python3, standard library only)
With --check nothing is written; the exit status says whether the files in the
tree are what this script would write.
"""
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEMMAPS = os.path.join(ROOT, "data", "memmaps")
BOOTLOGS = os.path.join(ROOT, "data", "linux-boot")
BINARY = os.path.join(ROOT, "tests", "data", "binary")
SEEDS = os.path.join(ROOT, "tests", "fuzz", "seeds")

# e820 type names as Linux prints them -> e820 / multiboot type numbers.
E820_TYPES = {
    "usable": 1,
    "System RAM": 1,
    "reserved": 2,
    "ACPI data": 3,
    "ACPI NVS": 4,
    "unusable": 5,
    "persistent (type 12)": 12,
}

E820_RE = re.compile(r"BIOS-e820: \[mem (0x[0-9a-fA-F]+)-(0x[0-9a-fA-F]+)\] (.+?)\s*$")
EFI_RE = re.compile(r"efi: mem\d+: type=(\d+), attr=(0x[0-9a-fA-F]+), "
                    r"range=\[(0x[0-9a-fA-F]+)-(0x[0-9a-fA-F]+)\)")


def read_e820(path):
    """[(base, length, type)] from the BIOS-e820 lines (end inclusive)."""
    entries = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = E820_RE.search(line)
            if not m:
                continue
            first, last, name = int(m[1], 16), int(m[2], 16), m[3]
            if name.startswith("type "):
                t = int(name[5:])
            else:
                t = E820_TYPES[name]
            entries.append((first, last + 1 - first, t))
    if not entries:
        raise SystemExit(f"{path}: no BIOS-e820 lines")
    return entries


def read_efi(path):
    """[(type, attr, start, pages)] from the efi: memNN lines (end exclusive)."""
    descs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = EFI_RE.search(line)
            if not m:
                continue
            t, attr, start, end = int(m[1]), int(m[2], 16), int(m[3], 16), int(m[4], 16)
            assert start % 4096 == 0 and end % 4096 == 0
            descs.append((t, attr, start, (end - start) // 4096))
    if not descs:
        raise SystemExit(f"{path}: no efi: memNN lines")
    return descs


def efi_map(descs, stride=48):
    """EFI_MEMORY_DESCRIPTOR array: u32 Type, u32 pad, u64 PhysicalStart,
    u64 VirtualStart, u64 NumberOfPages, u64 Attribute, zero padding to stride."""
    out = b""
    for t, attr, start, pages in descs:
        d = struct.pack("<IIQQQQ", t, 0, start, 0, pages, attr)
        out += d + bytes(stride - len(d))
    return out


def mb1_mmap(entries):
    """Multiboot 1 mmap buffer: u32 size (20), u64 base, u64 length, u32 type."""
    return b"".join(struct.pack("<IQQI", 20, b, l, t) for b, l, t in entries)


def mb2_tag(tag_type, payload):
    return struct.pack("<II", tag_type, 8 + len(payload)) + payload


def mb2_mmap_tag(entries):
    """Multiboot 2 memory-map tag: type 6, size, entry_size 24, entry_version 0."""
    body = b"".join(struct.pack("<QQII", b, l, t, 0) for b, l, t in entries)
    return struct.pack("<IIII", 6, 16 + len(body), 24, 0) + body


def pad8(b):
    return b + bytes(-len(b) % 8)


def acpi_rsdp_v1(rsdt):
    """A 20-byte ACPI 1.0 RSDP as SeaBIOS writes it, with a valid checksum."""
    body = b"RSD PTR " + b"\0" + b"BOCHS " + b"\0" + struct.pack("<I", rsdt)
    csum = (-sum(body)) & 0xFF
    return body[:8] + bytes([csum]) + body[9:]


def mb2_info(entries, cmdline, loader):
    """Multiboot 2 boot information in GRUB's tag order."""
    usable = [(b, l) for b, l, t in entries if t == 1]
    mem_lower = min(640, next(l for b, l in usable if b == 0) // 1024)
    upper = next(b + l for b, l in usable if b <= 0x100000 < b + l)
    mem_upper = (upper - 0x100000) // 1024
    tags = [
        mb2_tag(21, struct.pack("<I", 0x100000)),                 # image load base
        mb2_tag(1, cmdline.encode() + b"\0"),                     # command line
        mb2_tag(2, loader.encode() + b"\0"),                      # boot loader name
        mb2_tag(4, struct.pack("<II", mem_lower, mem_upper)),     # basic meminfo
        mb2_tag(5, struct.pack("<III", 0x80, 0, 0xFFFFFFFF)),     # BIOS boot device
        mb2_mmap_tag(entries),                                    # memory map
        mb2_tag(14, acpi_rsdp_v1(0x7FFE1C3E)),                    # ACPI old RSDP
        mb2_tag(0, b""),                                          # end
    ]
    body = b"".join(pad8(t) for t in tags)
    return struct.pack("<II", 8 + len(body), 0) + body


def outputs():
    lenovo = read_efi(os.path.join(MEMMAPS, "lenovo-g50-amd-laptop-uefi-insyde.efi.txt"))
    q35 = read_e820(os.path.join(MEMMAPS, "qemu-q35-seabios-8g.txt"))
    q1g = read_e820(os.path.join(BOOTLOGS, "linux-6.1-x86_64-qemu-1g-2cpu.log"))
    assert len(lenovo) == 56 and len(q35) == 10 and len(q1g) == 7

    efi = efi_map(lenovo)
    mb1 = mb1_mmap(q35)
    mb2 = mb2_info(q35, "/boot/kmem-demo console=ttyS0", "GRUB 2.06-13+deb12u1")
    tag = mb2_mmap_tag(q1g)
    text = (b"BIOS-provided physical RAM map:\n"
            b"BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
            b"BIOS-e820: [mem 0x0000000000100000-0x0000000007fdffff] usable\n")
    files = {
        os.path.join(BINARY, "lenovo-g50.efi"): efi,
        os.path.join(BINARY, "qemu-q35-8g.mb1"): mb1,
        os.path.join(BINARY, "qemu-q35-8g.mb2"): mb2,
        os.path.join(BINARY, "qemu-1g.mb2-tag"): tag,
        # EFI fuzz input: u8 desc_size, u8 desc_version, then the map.
        os.path.join(SEEDS, "efi", "lenovo-g50-48"): bytes([48, 1]) + efi,
        os.path.join(SEEDS, "efi", "lenovo-g50-40"): bytes([40, 1]) + efi_map(lenovo, 40),
        os.path.join(SEEDS, "efi", "short-56"): bytes([56, 1]) + efi_map(lenovo[:6], 56),
        os.path.join(SEEDS, "multiboot", "qemu-q35-8g.mb1"): mb1,
        os.path.join(SEEDS, "multiboot", "qemu-q35-8g.mb2"): mb2,
        os.path.join(SEEDS, "multiboot", "qemu-1g.mb2-tag"): tag,
        os.path.join(SEEDS, "detect", "lenovo-g50.efi"): efi,
        os.path.join(SEEDS, "detect", "qemu-q35-8g.mb1"): mb1,
        os.path.join(SEEDS, "detect", "qemu-q35-8g.mb2"): mb2,
        os.path.join(SEEDS, "detect", "qemu-1g.mb2-tag"): tag,
        os.path.join(SEEDS, "detect", "e820.txt"): text,
    }
    return files


def main():
    check = sys.argv[1:] == ["--check"]
    if sys.argv[1:] and not check:
        raise SystemExit(__doc__)
    stale = []
    for path, data in outputs().items():
        try:
            with open(path, "rb") as f:
                same = f.read() == data
        except FileNotFoundError:
            same = False
        if same:
            continue
        stale.append(os.path.relpath(path, ROOT))
        if not check:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
    for p in stale:
        print(("stale: " if check else "wrote: ") + p)
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
