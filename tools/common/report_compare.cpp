// SPDX-License-Identifier: MIT
//
// DOC: two reports side by side as text (kmem-sim --compare): the boot
// phases, the memory totals, the allocations before Running grouped by the
// function that made them, and the slab caches by name. "-" where a report
// has no such value (a map-only report, a cache only one side has).
#include "report_text.h"

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <optional>
#include <vector>

namespace kmem::tools {
namespace {

using nlohmann::json;
using Value = std::optional<uint64_t>;

Value at(const json &r, const std::vector<const char *> &path) {
    const json *j = &r;
    for (const char *k : path) {
        if (!j->is_object() || !j->contains(k)) return std::nullopt;
        j = &(*j)[k];
    }
    return j->is_number_unsigned() || j->is_number_integer() ? Value(j->get<uint64_t>())
                                                             : std::nullopt;
}

std::string cell(Value v) { return v ? std::to_string(*v) : "-"; }

// B's change from A: "+123 (1.25x)".
std::string change(Value a, Value b) {
    if (!a || !b) return "";
    char s[64];
    const int64_t d = static_cast<int64_t>(*b - *a);
    if (*a)
        std::snprintf(s, sizeof s, "%+" PRId64 " (%.2fx)", d,
                      static_cast<double>(*b) / static_cast<double>(*a));
    else
        std::snprintf(s, sizeof s, "%+" PRId64, d);
    return s;
}

constexpr size_t kNameWidth = 40;

void row(std::ostream &os, const std::string &name, Value a, Value b) {
    char line[256];
    const std::string shown =
        name.size() > kNameWidth ? name.substr(0, kNameWidth - 3) + "..." : name;
    std::snprintf(line, sizeof line, "  %-*s %16s %16s  %s\n", static_cast<int>(kNameWidth),
                  shown.c_str(), cell(a).c_str(), cell(b).c_str(), change(a, b).c_str());
    os << line;
}

void heading(std::ostream &os, const char *title) {
    char line[256];
    std::snprintf(line, sizeof line, "%-*s %16s %16s  %s\n", static_cast<int>(kNameWidth + 2),
                  title, "A", "B", "B - A (B / A)");
    os << line;
}

// The function of a call site: "reserve_real_mode+0x50/0x89" -> "reserve_real_mode".
std::string site(const std::string &caller) { return caller.substr(0, caller.find('+')); }

struct Early {
    Value count[2], bytes[2];
};

} // namespace

void print_compare_text(std::ostream &os, const json &a, const json &b) {
    const json *r[2] = {&a, &b};
    os << "kmem: A: " << report_label(a) << "\n";
    os << "kmem: B: " << report_label(b) << "\n";

    heading(os, "Boot phases (ns)");
    std::vector<std::string> names;
    for (const json *x : r)
        if (x->at("boot").contains("phases"))
            for (const json &p : x->at("boot")["phases"])
                if (std::find(names.begin(), names.end(), p.at("name").get<std::string>()) ==
                    names.end())
                    names.push_back(p.at("name").get<std::string>());
    auto phase_ns = [](const json &x, const std::string &name) -> Value {
        if (!x.at("boot").contains("phases")) return std::nullopt;
        for (const json &p : x.at("boot")["phases"])
            if (p.at("name") == name) return p.at("ns").get<uint64_t>();
        return std::nullopt;
    };
    for (const std::string &n : names)
        row(os, n, phase_ns(a, n), phase_ns(b, n));
    row(os, "kmalloc ready", at(a, {"boot", "kmalloc_ready_ns"}),
        at(b, {"boot", "kmalloc_ready_ns"}));
    row(os, "all RAM online", at(a, {"boot", "all_online_ns"}), at(b, {"boot", "all_online_ns"}));

    heading(os, "Memory");
    const struct {
        const char *name;
        std::vector<const char *> path;
    } totals[] = {
        {"usable bytes (map)", {"map", "usable_bytes"}},
        {"reserved bytes (map)", {"map", "reserved_bytes"}},
        {"NUMA nodes", {"map", "nodes"}},
        {"early window bytes", {"boot", "window_bytes"}},
        {"pages managed", {"phys", "managed_pages"}},
        {"free pages", {"phys", "free_pages"}},
        {"allocated pages", {"phys", "allocated_pages"}},
        {"reserved pages", {"phys", "reserved_pages"}},
        {"page descriptor bytes", {"phys", "metadata_bytes"}},
        {"slab pages", {"slab", "slab_pages"}},
        {"large kmalloc pages", {"slab", "large_pages"}},
        {"page-table pages", {"kernel", "page_tables", "pages"}},
    };
    for (const auto &t : totals)
        row(os, t.name, at(a, t.path), at(b, t.path));
    Value early_n[2], early_bytes[2];
    std::map<std::string, Early> by_site;
    std::vector<std::string> sites;
    for (int i = 0; i < 2; ++i) {
        if (!r[i]->contains("early")) continue;
        early_n[i] = 0;
        early_bytes[i] = 0;
        for (const json &e : r[i]->at("early")["allocations"]) {
            if (e.at("failed").get<bool>()) continue;
            const std::string s = site(e.at("caller").get<std::string>());
            if (!by_site.count(s)) sites.push_back(s);
            Early &g = by_site[s];
            g.count[i] = g.count[i].value_or(0) + 1;
            g.bytes[i] = g.bytes[i].value_or(0) + e.at("size").get<uint64_t>();
            *early_n[i] += 1;
            *early_bytes[i] += e.at("size").get<uint64_t>();
        }
    }
    row(os, "allocations before Running", early_n[0], early_n[1]);
    row(os, "bytes allocated before Running", early_bytes[0], early_bytes[1]);

    heading(os, "Allocations before Running (bytes)");
    for (const std::string &s : sites) {
        const Early &g = by_site[s];
        const std::string name = s + " (" + cell(g.count[0]) + " / " + cell(g.count[1]) + ")";
        row(os, name, g.bytes[0], g.bytes[1]);
    }

    heading(os, "Slab caches (objects allocated)");
    std::vector<std::string> caches;
    std::map<std::string, std::array<Value, 2>> active;
    for (int i = 0; i < 2; ++i) {
        if (!r[i]->contains("slab")) continue;
        for (const json &c : r[i]->at("slab")["caches"]) {
            const std::string n = c.at("name").get<std::string>();
            if (!active.count(n)) caches.push_back(n);
            active[n][i] = c.at("active").get<uint64_t>();
        }
    }
    for (const std::string &n : caches)
        row(os, n, active[n][0], active[n][1]);
}

} // namespace kmem::tools
