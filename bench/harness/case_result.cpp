// SPDX-License-Identifier: Apache-2.0
#include "harness/case_result.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>
#include <vector>

namespace dhub::bench {

void CaseResult::set_latency(const LatencySummary& summary) noexcept {
    p50_ns = summary.p50_ns;
    p99_ns = summary.p99_ns;
    p999_ns = summary.p999_ns;
}

void CaseResult::set_throughput(std::uint64_t messages, std::int64_t elapsed_ns) noexcept {
    if (elapsed_ns <= 0 || messages == 0) return;
    const double seconds = static_cast<double>(elapsed_ns) * 1e-9;
    msgs_per_s = static_cast<double>(messages) / seconds;
    gb_per_s = msgs_per_s * static_cast<double>(payload_bytes) * 1e-9;
}

namespace {

nlohmann::json number_or_null(double value) {
    return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

std::string format(const char* fmt, double value) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, fmt, value);
    return buffer;
}

std::string format_bytes(std::size_t bytes) {
    if (bytes == 0) return "-";
    if (bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
    if (bytes % (1u << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
    return std::to_string(bytes) + " B";
}

// Latencies in microseconds: the interesting range is 0.1 us .. 1000 us.
std::string format_us(double ns) {
    return std::isfinite(ns) ? format("%.3f", ns * 1e-3) : "-";
}

std::string format_rate(double per_s) {
    if (!std::isfinite(per_s)) return "-";
    if (per_s >= 1e6) return format("%.2f M", per_s * 1e-6);
    if (per_s >= 1e3) return format("%.1f k", per_s * 1e-3);
    return format("%.0f", per_s);
}

std::string format_gb(double gb) {
    return std::isfinite(gb) ? format("%.2f", gb) : "-";
}

// A column: header, width and right/left alignment.
struct Column {
    std::string_view header;
    int width;
    bool left;
};

constexpr Column COLUMNS[] = {
    {"transport", 9, true}, {"payload", 8, false},  {"wait", 5, true},     {"cons", 4, false}, {"p50 us", 9, false},
    {"p99 us", 9, false},   {"p99.9 us", 9, false}, {"msgs/s", 10, false}, {"GB/s", 8, false}, {"note", 0, true},
};

void print_cells(std::ostream& out, const std::vector<std::string>& cells) {
    std::string line;
    for (std::size_t i = 0; i < cells.size(); ++i) {
        const Column& column = COLUMNS[i];
        std::string cell = cells[i];
        const auto width = static_cast<std::size_t>(column.width);
        if (cell.size() < width) {
            const std::string pad(width - cell.size(), ' ');
            cell = column.left ? cell + pad : pad + cell;
        }
        if (i > 0) line += "  ";
        line += cell;
    }
    while (!line.empty() && line.back() == ' ')
        line.pop_back();
    out << line << '\n';
}

std::vector<std::string> row_cells(const CaseResult& r) {
    return {r.transport,
            format_bytes(r.payload_bytes),
            r.wait.empty() ? "-" : r.wait,
            r.consumers > 0 ? std::to_string(r.consumers) : "-",
            format_us(r.p50_ns),
            format_us(r.p99_ns),
            format_us(r.p999_ns),
            format_rate(r.msgs_per_s),
            format_gb(r.gb_per_s),
            r.failed() ? "FAILED: " + r.error : r.note};
}

}  // namespace

nlohmann::json to_json(const CaseResult& result) {
    nlohmann::json object;  // nlohmann keeps keys sorted; consumers must not rely on key order
    object["case"] = result.case_name;
    object["transport"] = result.transport;
    object["payload_bytes"] = result.payload_bytes;
    object["p50_ns"] = number_or_null(result.p50_ns);
    object["p99_ns"] = number_or_null(result.p99_ns);
    object["p999_ns"] = number_or_null(result.p999_ns);
    object["msgs_per_s"] = number_or_null(result.msgs_per_s);
    object["gb_per_s"] = number_or_null(result.gb_per_s);
    object["wait"] = result.wait.empty() ? nlohmann::json(nullptr) : nlohmann::json(result.wait);
    object["consumers"] = result.consumers;
    return object;
}

void print_json_lines(std::ostream& out, std::span<const CaseResult> results) {
    for (const CaseResult& result : results) {
        if (!result.failed()) out << to_json(result).dump() << '\n';
    }
    out.flush();
}

void print_table(std::ostream& out, std::span<const CaseResult> results) {
    std::vector<std::string> case_order;
    for (const CaseResult& result : results) {
        if (std::find(case_order.begin(), case_order.end(), result.case_name) == case_order.end()) {
            case_order.push_back(result.case_name);
        }
    }
    std::vector<std::string> header;
    for (const Column& column : COLUMNS)
        header.emplace_back(column.header);
    for (const std::string& case_name : case_order) {
        std::vector<const CaseResult*> rows;
        for (const CaseResult& result : results) {
            if (result.case_name == case_name) rows.push_back(&result);
        }
        // Same payload and wait side by side, so transports compare line by line; stable, so the
        // registration order of the transports is kept.
        std::stable_sort(rows.begin(), rows.end(), [](const CaseResult* a, const CaseResult* b) {
            if (a->payload_bytes != b->payload_bytes) return a->payload_bytes < b->payload_bytes;
            return a->wait > b->wait;  // "spin" before "sleep"
        });
        out << "\n== " << case_name << " ==\n";
        print_cells(out, header);
        for (const CaseResult* row : rows)
            print_cells(out, row_cells(*row));
    }
    out.flush();
}

std::string one_line_summary(const CaseResult& r) {
    std::string line = r.case_name + " " + r.transport + " " + format_bytes(r.payload_bytes);
    if (!r.wait.empty()) line += " " + r.wait;
    if (r.consumers > 1) line += " x" + std::to_string(r.consumers);
    if (r.failed()) return line + ": FAILED: " + r.error;
    line += ":";
    if (std::isfinite(r.p50_ns)) {
        line += " p50 " + format_us(r.p50_ns) + " us, p99 " + format_us(r.p99_ns) + " us, p99.9 " +
                format_us(r.p999_ns) + " us";
    }
    if (std::isfinite(r.msgs_per_s)) line += " " + format_rate(r.msgs_per_s) + " msgs/s";
    if (std::isfinite(r.gb_per_s)) line += " " + format_gb(r.gb_per_s) + " GB/s";
    return line;
}

}  // namespace dhub::bench
