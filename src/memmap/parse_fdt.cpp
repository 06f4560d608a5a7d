// SPDX-License-Identifier: MIT
//
// DOC: flattened device tree (DTB) memory map.
//
// A device tree describes memory in three places, all read here:
//   - the memory reservation block: (address, size) pairs before the tree,
//     ended by (0, 0); each non-empty pair is reserved;
//   - root-level nodes with device_type = "memory": their reg, decoded with
//     the root's #address-cells / #size-cells, is usable RAM on the node's
//     numa-node-id (0 when absent); this is what Linux's
//     early_init_dt_scan_memory() reads;
//   - children of /reserved-memory: their reg, decoded with that node's own
//     cells, is reserved; children with only a size are allocated by the
//     kernel later and are only counted.
// Nodes whose status is present and not "okay"/"ok" are skipped.
//
// The structure block is walked once, token by token, with bounded state: the
// open-node depth (at most kMaxDepth) and the properties that matter of the
// current level-1 and level-2 node, kept as offsets into the blob and acted on
// at FDT_END_NODE (properties may come in any order). As the specification
// requires, a node's properties must precede its subnodes, so the root's cells
// are known by the time any memory node ends. Every byte is read through
// ByteReader, bounded by the header's totalsize; errors carry the byte offset.
#include <kmem/memmap_parse.h>

#include "byte_reader.h"

namespace kmem {
namespace {

using detail::ByteReader;

constexpr uint32_t kFdtMagic = 0xd00dfeed;
constexpr uint32_t kFirstVersion = 16;    // oldest version read
constexpr uint32_t kLastCompVersion = 17; // newest layout understood
constexpr size_t kHeaderSizeV16 = 36;     // up to size_dt_strings
constexpr size_t kHeaderSizeV17 = 40;     // plus size_dt_struct
constexpr size_t kReserveEntrySize = 16;  // u64 address, u64 size
constexpr size_t kMaxDepth = 64;          // open nodes, root included

enum Token : uint32_t {
    kBeginNode = 1,
    kEndNode = 2,
    kProp = 3,
    kNop = 4,
    kEnd = 9,
};

// Byte offsets of the header fields.
enum HeaderField : size_t {
    kOffTotalSize = 4,
    kOffStruct = 8,
    kOffStrings = 12,
    kOffRsvmap = 16,
    kOffVersion = 20,
    kOffLastComp = 24,
    kOffSizeStrings = 32,
    kOffSizeStruct = 36,
};

constexpr size_t align4(size_t off) { return (off + 3) & ~size_t{3}; }

Error fdt_error(Errc code, const char *reason, size_t at) {
    return make_error(code, reason, Where::byte, at);
}

// Point an error (e.g. from MemoryMap) at the blob byte that caused it.
Status at_byte(Status s, size_t at) {
    if (s.ok()) return s;
    Error e = s.error();
    e.where = Where::byte;
    e.at = at;
    return e;
}

// Where a property's value lies in the blob.
struct PropValue {
    size_t off = 0;
    size_t len = 0;
    bool present = false;
};

// The properties kmem cares about in one node; the first of a name wins, as
// with libfdt's fdt_getprop().
struct NodeProps {
    PropValue device_type, status, reg, size, numa_node_id;
    PropValue address_cells, size_cells;
};

struct Cells {
    uint32_t address;
    uint32_t size;
};

class FdtParser {
public:
    FdtParser(const void *blob, size_t len, MemoryMap &out, FdtInfo &info)
        : blob_(blob, len), r_(blob, 0), out_(out), info_(info) {}

    Status parse() {
        KMEM_TRY(read_header());
        KMEM_TRY(read_memory_reservations());
        KMEM_TRY(walk_structure());
        out_.trim_usable_to_pages();
        return {};
    }

private:
    // ---- header and memory reservation block ----

    Status read_header() {
        uint32_t magic = 0, total = 0, version = 0, last_comp = 0;
        if (!blob_.be32(0, magic))
            return fdt_error(Errc::truncated, "blob too short for an FDT header", 0);
        if (magic != kFdtMagic)
            return fdt_error(Errc::bad_magic, "not an FDT blob (magic is not 0xd00dfeed)", 0);
        if (!blob_.fits(0, kHeaderSizeV16))
            return fdt_error(Errc::truncated, "blob too short for an FDT header", 0);
        (void)blob_.be32(kOffVersion, version);
        (void)blob_.be32(kOffLastComp, last_comp);
        if (version < kFirstVersion)
            return fdt_error(Errc::unsupported_version, "FDT version older than 16", kOffVersion);
        if (last_comp > kLastCompVersion)
            return fdt_error(Errc::unsupported_version,
                             "FDT last compatible version is newer than 17", kOffLastComp);
        const size_t header_size = version >= 17 ? kHeaderSizeV17 : kHeaderSizeV16;
        if (!blob_.fits(0, header_size))
            return fdt_error(Errc::truncated, "blob too short for an FDT header", 0);
        (void)blob_.be32(kOffTotalSize, total);
        if (total > blob_.size())
            return fdt_error(Errc::truncated, "buffer is shorter than the FDT totalsize",
                             blob_.size());
        if (total < header_size)
            return fdt_error(Errc::malformed, "FDT totalsize is smaller than its header",
                             kOffTotalSize);
        info_.version = version;
        r_ = ByteReader(blob_.data(), total);
        return read_block_offsets(header_size, version);
    }

    Status read_block_offsets(size_t header_size, uint32_t version) {
        uint32_t off_struct = 0, off_strings = 0, off_rsvmap = 0, size_strings = 0;
        (void)r_.be32(kOffStruct, off_struct);
        (void)r_.be32(kOffStrings, off_strings);
        (void)r_.be32(kOffRsvmap, off_rsvmap);
        (void)r_.be32(kOffSizeStrings, size_strings);
        const size_t total = r_.size();
        if (off_rsvmap < header_size || off_rsvmap > total)
            return fdt_error(Errc::malformed, "memory reservation block offset is out of bounds",
                             kOffRsvmap);
        if (off_rsvmap % 8 != 0)
            return fdt_error(Errc::malformed, "memory reservation block is not 8-byte aligned",
                             kOffRsvmap);
        if (off_struct < header_size || off_struct > total)
            return fdt_error(Errc::malformed, "structure block offset is out of bounds",
                             kOffStruct);
        if (off_struct % 4 != 0)
            return fdt_error(Errc::malformed, "structure block is not 4-byte aligned", kOffStruct);
        if (off_strings < header_size || !r_.fits(off_strings, size_strings))
            return fdt_error(Errc::malformed, "strings block is out of bounds", kOffStrings);
        struct_begin_ = off_struct;
        struct_end_ = total;
        if (version >= 17) {
            uint32_t size_struct = 0;
            (void)r_.be32(kOffSizeStruct, size_struct);
            if (!r_.fits(off_struct, size_struct))
                return fdt_error(Errc::malformed, "structure block size is out of bounds",
                                 kOffSizeStruct);
            struct_end_ = off_struct + size_struct;
        }
        rsvmap_ = off_rsvmap;
        strings_begin_ = off_strings;
        strings_size_ = size_strings;
        return {};
    }

    Status read_memory_reservations() {
        for (size_t off = rsvmap_;; off += kReserveEntrySize) {
            uint64_t address = 0, size = 0;
            if (!r_.be64(off, address) || !r_.be64(off + 8, size))
                return fdt_error(Errc::truncated,
                                 "memory reservation block runs past the end of the blob", off);
            if (address == 0 && size == 0) return {};
            ++info_.memreserve_entries;
            if (size == 0) continue;
            if (address + size < address)
                return fdt_error(Errc::invalid_range, "memreserve entry wraps past 2^64", off);
            KMEM_TRY(at_byte(out_.add_untrimmed(address, address + size, MemType::reserved), off));
        }
    }

    // ---- structure block ----

    bool struct_u32(size_t off, uint32_t &v) const {
        return off <= struct_end_ && struct_end_ - off >= 4 && r_.be32(off, v);
    }

    Status walk_structure() {
        size_t pos = struct_begin_;
        uint32_t token = 0;
        if (!struct_u32(pos, token))
            return fdt_error(Errc::truncated, "structure block is empty", pos);
        if (token != kBeginNode)
            return fdt_error(Errc::malformed, "structure block does not start with the root node",
                             pos);
        for (;;) {
            if (!struct_u32(pos, token))
                return fdt_error(Errc::truncated, "structure block ends without FDT_END",
                                 pos < struct_end_ ? pos : struct_end_);
            switch (token) {
            case kBeginNode: KMEM_TRY(begin_node(pos)); break;
            case kEndNode: KMEM_TRY(end_node(pos)); break;
            case kProp: KMEM_TRY(property(pos)); break;
            case kNop: pos += 4; break;
            case kEnd:
                if (open_ != 0)
                    return fdt_error(Errc::malformed, "FDT_END with nodes still open", pos);
                return {};
            default: return fdt_error(Errc::malformed, "unknown structure block token", pos);
            }
        }
    }

    Status begin_node(size_t &pos) {
        const size_t name = pos + 4;
        size_t name_len = 0;
        if (!r_.cstr(name, struct_end_, name_len))
            return fdt_error(Errc::malformed, "unterminated string: node name", name);
        if (open_ == 0 && root_done_) return fdt_error(Errc::malformed, "a second root node", pos);
        if (open_ == kMaxDepth)
            return fdt_error(Errc::capacity, "nodes nested deeper than 64 levels", pos);
        if (open_ > 0) has_subnode_[open_ - 1] = true;
        const size_t level = open_++;
        has_subnode_[level] = false;
        if (level == 1) {
            child_ = NodeProps{};
            in_reserved_memory_ = bytes_equal(name, name_len, "reserved-memory");
        } else if (level == 2) {
            grandchild_ = NodeProps{};
        }
        pos = align4(name + name_len + 1);
        return {};
    }

    Status end_node(size_t &pos) {
        if (open_ == 0) return fdt_error(Errc::malformed, "FDT_END_NODE without an open node", pos);
        const size_t level = --open_;
        if (level == 0) root_done_ = true;
        if (level == 1) KMEM_TRY(finish_memory_node(child_));
        if (level == 2 && in_reserved_memory_) KMEM_TRY(finish_reserved_child(grandchild_));
        pos += 4;
        return {};
    }

    Status property(size_t &pos) {
        uint32_t len = 0, name_off = 0;
        if (!struct_u32(pos + 4, len) || !struct_u32(pos + 8, name_off))
            return fdt_error(Errc::truncated, "property header runs past the structure block", pos);
        const size_t value = pos + 12;
        if (len > struct_end_ - value)
            return fdt_error(Errc::truncated, "property value runs past the structure block", pos);
        if (open_ == 0) return fdt_error(Errc::malformed, "property outside any node", pos);
        if (has_subnode_[open_ - 1])
            return fdt_error(Errc::malformed, "property after a subnode", pos);
        if (name_off >= strings_size_)
            return fdt_error(Errc::malformed, "property name offset is out of bounds", pos + 8);
        const size_t name = strings_begin_ + name_off;
        size_t name_len = 0;
        if (!r_.cstr(name, strings_begin_ + strings_size_, name_len))
            return fdt_error(Errc::malformed, "unterminated string: property name", name);
        record_property(name, name_len, PropValue{value, len, true});
        pos = align4(value + len);
        return {};
    }

    void record_property(size_t name, size_t name_len, PropValue v) {
        const size_t level = open_ - 1;
        if (level == 0) record_cells(root_, name, name_len, v);
        if (level == 1) {
            record_cells(child_, name, name_len, v);
            record_node_prop(child_, name, name_len, v);
        }
        if (level == 2 && in_reserved_memory_) record_node_prop(grandchild_, name, name_len, v);
    }

    void record_cells(NodeProps &n, size_t name, size_t name_len, PropValue v) {
        keep_first(n.address_cells, name, name_len, "#address-cells", v);
        keep_first(n.size_cells, name, name_len, "#size-cells", v);
    }

    void record_node_prop(NodeProps &n, size_t name, size_t name_len, PropValue v) {
        keep_first(n.device_type, name, name_len, "device_type", v);
        keep_first(n.status, name, name_len, "status", v);
        keep_first(n.reg, name, name_len, "reg", v);
        keep_first(n.size, name, name_len, "size", v);
        keep_first(n.numa_node_id, name, name_len, "numa-node-id", v);
    }

    void keep_first(PropValue &slot, size_t name, size_t name_len, const char *want, PropValue v) {
        if (!slot.present && bytes_equal(name, name_len, want)) slot = v;
    }

    // ---- acting on a node once all its properties are known ----

    Status finish_memory_node(const NodeProps &n) {
        if (!value_is_string(n.device_type, "memory") || !available(n)) return {};
        ++info_.memory_nodes;
        if (!n.reg.present) return {}; // the boot loader fills it in
        uint16_t node = 0;
        if (n.numa_node_id.present) KMEM_TRY(read_numa_node(n.numa_node_id, node));
        Cells cells{};
        KMEM_TRY(read_cells(root_, n.reg, cells));
        return add_reg(n.reg, cells, MemType::usable, node, &info_.memory_regs);
    }

    Status finish_reserved_child(const NodeProps &n) {
        if (!available(n)) return {};
        if (!n.reg.present) {
            if (n.size.present) ++info_.dynamic_reserved; // placed by the kernel later
            return {};
        }
        ++info_.reserved_regions;
        Cells cells{};
        KMEM_TRY(read_cells(child_, n.reg, cells));
        return add_reg(n.reg, cells, MemType::reserved, 0, nullptr);
    }

    // status absent, "okay" or "ok" (Linux's of_fdt_device_is_available()).
    bool available(const NodeProps &n) const {
        return !n.status.present || value_is_string(n.status, "okay") ||
               value_is_string(n.status, "ok");
    }

    Status read_numa_node(PropValue v, uint16_t &node) const {
        uint32_t id = 0;
        if (v.len != 4 || !r_.be32(v.off, id))
            return fdt_error(Errc::malformed, "numa-node-id is not one 32-bit cell", v.off);
        if (id >= kMaxNodes)
            return fdt_error(Errc::invalid_argument, "numa-node-id is not below kMaxNodes (64)",
                             v.off);
        node = static_cast<uint16_t>(id);
        return {};
    }

    // The #address-cells / #size-cells of `parent`, which decode `reg`.
    Status read_cells(const NodeProps &parent, PropValue reg, Cells &c) const {
        c = Cells{2, 1}; // defaults from the devicetree specification
        KMEM_TRY(
            read_cell(parent.address_cells, c.address, "#address-cells is not one 32-bit cell"));
        KMEM_TRY(read_cell(parent.size_cells, c.size, "#size-cells is not one 32-bit cell"));
        const size_t at_a = parent.address_cells.present ? parent.address_cells.off : reg.off;
        const size_t at_s = parent.size_cells.present ? parent.size_cells.off : reg.off;
        if (c.address > 2)
            return fdt_error(Errc::malformed, "#address-cells > 2 is not supported", at_a);
        if (c.size > 2) return fdt_error(Errc::malformed, "#size-cells > 2 is not supported", at_s);
        if (c.address == 0)
            return fdt_error(Errc::malformed, "#address-cells is 0 but reg needs an address", at_a);
        if (c.size == 0)
            return fdt_error(Errc::malformed, "#size-cells is 0 but reg needs a size", at_s);
        return {};
    }

    Status read_cell(PropValue v, uint32_t &cell, const char *reason) const {
        if (!v.present) return {};
        if (v.len != 4 || !r_.be32(v.off, cell)) return fdt_error(Errc::malformed, reason, v.off);
        return {};
    }

    // reg = (address, size) pairs; each non-empty one becomes a range.
    Status add_reg(PropValue reg, Cells cells, MemType type, uint16_t node, uint32_t *pairs) {
        const size_t address_bytes = size_t{cells.address} * 4;
        const size_t pair_bytes = (size_t{cells.address} + cells.size) * 4;
        if (reg.len % pair_bytes != 0)
            return fdt_error(Errc::malformed, "reg length is not a multiple of its cells", reg.off);
        for (size_t off = reg.off; off < reg.off + reg.len; off += pair_bytes) {
            const uint64_t address = read_number(off, cells.address);
            const uint64_t size = read_number(off + address_bytes, cells.size);
            if (pairs) ++*pairs;
            if (size == 0) continue;
            if (address + size < address)
                return fdt_error(Errc::invalid_range, "reg entry wraps past 2^64", off);
            KMEM_TRY(at_byte(out_.add_untrimmed(address, address + size, type, node), off));
            // Carve-outs already inside this memory belong to its node too.
            if (type == MemType::usable)
                KMEM_TRY(at_byte(out_.set_node(address, address + size, node), off));
        }
        return {};
    }

    // One or two big-endian cells; the caller has checked they lie in the blob.
    uint64_t read_number(size_t off, uint32_t ncells) const {
        uint64_t v = 0;
        uint32_t v32 = 0;
        if (ncells == 2)
            (void)r_.be64(off, v);
        else if (r_.be32(off, v32))
            v = v32;
        return v;
    }

    // ---- byte comparisons inside the blob ----

    // The blob bytes [off, off + len) spell `s` exactly.
    bool bytes_equal(size_t off, size_t len, const char *s) const {
        if (!r_.fits(off, len)) return false;
        const uint8_t *p = r_.data() + off;
        for (size_t i = 0; i < len; ++i)
            if (s[i] == '\0' || p[i] != static_cast<uint8_t>(s[i])) return false;
        return s[len] == '\0';
    }

    // The value's first NUL-terminated string is `s` (what strcmp() on the
    // value would say, without reading past the value).
    bool value_is_string(PropValue v, const char *s) const {
        if (!v.present || !r_.fits(v.off, v.len)) return false;
        const uint8_t *p = r_.data() + v.off;
        for (size_t i = 0;; ++i) {
            if (i >= v.len || p[i] != static_cast<uint8_t>(s[i])) return false;
            if (s[i] == '\0') return true;
        }
    }

    ByteReader blob_; // the whole buffer, for the header
    ByteReader r_;    // the blob, bounded by its totalsize
    MemoryMap &out_;
    FdtInfo &info_;

    size_t rsvmap_ = 0;
    size_t struct_begin_ = 0, struct_end_ = 0;
    size_t strings_begin_ = 0, strings_size_ = 0;

    size_t open_ = 0; // nodes open; the root is level 0
    bool root_done_ = false;
    bool has_subnode_[kMaxDepth] = {}; // per open level: a subnode has begun
    bool in_reserved_memory_ = false;  // the open level-1 node is /reserved-memory
    NodeProps root_, child_, grandchild_;
};

} // namespace

Status parse_fdt(const void *blob, size_t len, MemoryMap &out, FdtInfo *info) {
    FdtInfo local;
    FdtInfo &i = info ? *info : local;
    i = FdtInfo{};
    out.clear();
    if (blob == nullptr && len != 0) return make_error(Errc::invalid_argument, "null FDT buffer");
    FdtParser parser(blob, len, out, i);
    Status s = parser.parse();
    if (!s.ok()) out.clear();
    return s;
}

} // namespace kmem
