// SPDX-License-Identifier: MIT
//
// DOC: the HTML report page: the JSON report embedded in a fixed skeleton.
//
// Nothing here computes a number: the page's script (html_assets.cpp) draws
// everything from the embedded report. This file only escapes the JSON so
// that no string in it (a map's file name, a caller tag) can end the script
// block, adds kmem's constants, and writes the file.
#include "html_report.h"

#include <kmem/buddy.h>
#include <kmem/memmap.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace kmem::tools {
namespace {

// JSON that is safe inside <script type="application/json">: "<" only ever
// occurs inside JSON strings, where "\u003c" means the same character, so
// neither "</script" nor "<!--" can appear in the block.
std::string script_safe_json(const nlohmann::json &j) {
    // Invalid UTF-8 (a file name) becomes U+FFFD; --json itself would refuse it.
    const std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::string out;
    out.reserve(text.size() + 64);
    for (char c : text) {
        if (c == '<') out += "\\u003c";
        else out += c;
    }
    return out;
}

nlohmann::json constants() {
    return {{"page_size", kPageSize},
            {"max_order", kMaxOrder},
            {"zone_dma_end", kZoneDmaEnd},
            {"zone_dma32_end", kZoneDma32End}};
}

} // namespace

namespace {

// The page around the report blocks: `blocks` are the <script type="application/json"> elements.
std::string page(const std::string &title, const std::string &blocks) {
    std::string out;
    out.reserve(64 * 1024);
    out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
    out += title;
    out += "</title>\n<style>\n";
    out += kHtmlReportStyle;
    out += "</style>\n</head>\n<body data-status=\"loading\">\n"
           "<header><h1>kmem report: <span id=\"machine\"></span></h1><p id=\"subtitle\"></p></header>\n"
           "<noscript><p>This page draws its pictures and tables with a small inline script. The numbers "
           "are in the kmem-data block of this file: the JSON report of kmem-sim --json.</p></noscript>\n"
           "<main id=\"report\"></main>\n"
           "<footer>Written by kmem-sim --html. Every number on this page comes from the JSON report "
           "embedded in this file (the kmem-data block: what kmem-sim --json prints for the same run; "
           "kmem-data-b for the second report of a comparison).</footer>\n";
    out += blocks;
    out += "<script type=\"application/json\" id=\"kmem-constants\">";
    out += script_safe_json(constants());
    out += "</script>\n<script>\n";
    for (const char *part : {kHtmlScriptCommon, kHtmlScriptReport, kHtmlScriptCompare, kHtmlScriptEnd}) out += part;
    out += "</script>\n</body>\n</html>\n";
    return out;
}

std::string data_block(const char *id, const nlohmann::json &report) {
    return std::string("<script type=\"application/json\" id=\"") + id + "\">" + script_safe_json(report) +
           "</script>\n";
}

bool write_page(const std::string &path, const std::string &text, std::string &error) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) {
        error = path + ": cannot write the HTML report: " + std::strerror(errno);
        return false;
    }
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) {
        error = path + ": cannot write the HTML report: " + std::strerror(errno);
        return false;
    }
    return true;
}

} // namespace

std::string html_report(const nlohmann::json &report) {
    return page("kmem report", data_block("kmem-data", report));
}

std::string html_compare_report(const nlohmann::json &a, const nlohmann::json &b) {
    return page("kmem reports compared", data_block("kmem-data", a) + data_block("kmem-data-b", b));
}

bool write_html_report(const std::string &path, const nlohmann::json &report, std::string &error) {
    return write_page(path, html_report(report), error);
}

bool write_html_compare(const std::string &path, const nlohmann::json &a, const nlohmann::json &b,
                        std::string &error) {
    return write_page(path, html_compare_report(a, b), error);
}

} // namespace kmem::tools
