// SPDX-License-Identifier: Apache-2.0
#include "source_pacer.hpp"

#include <algorithm>
#include <cmath>

namespace dhub::runtime {

SourcePacer::SourcePacer(const graph::Pacing& pacing, counters::PacingCounters* counts) noexcept
    : rate_hz_(pacing.rate_hz),
      period_ns_(1e9L / static_cast<long double>(pacing.rate_hz)),
      late_(pacing.late),
      counts_(counts != nullptr ? *counts : own_) {
    counts_.rate_millihertz.store(static_cast<std::uint64_t>(std::llround(rate_hz_ * 1000.0)),
                                  std::memory_order_relaxed);
}

void SourcePacer::anchor(std::uint64_t start_ns) noexcept {
    anchored_ = true;
    start_ns_ = start_ns;
    tick_ = 0;
}

std::uint64_t SourcePacer::deadline_of(std::uint64_t tick) const noexcept {
    // From the tick's index, in long double (64-bit mantissa): exact to the nanosecond for years of ticks.
    return start_ns_ + static_cast<std::uint64_t>(std::llround(static_cast<long double>(tick) * period_ns_));
}

void SourcePacer::on_call(std::uint64_t now_ns) noexcept {
    const std::uint64_t due = deadline_of(tick_);
    const std::uint64_t lateness = now_ns > due ? now_ns - due : 0;
    counters::bump(counts_.ticks);
    counters::add(counts_.total_lateness_ns, lateness);
    if (lateness > counters::read(counts_.max_lateness_ns))
        counts_.max_lateness_ns.store(lateness, std::memory_order_relaxed);
    if (static_cast<long double>(lateness) >= period_ns_) counters::bump(counts_.late_ticks);
    ++tick_;
    if (late_ != graph::Pacing::Late::Skip || deadline_of(tick_) >= now_ns) return;
    // The ticks already past are dropped: the next call is for the first tick not yet past (one due right now
    // is kept).
    std::uint64_t next =
        std::max(tick_, static_cast<std::uint64_t>(static_cast<long double>(now_ns - start_ns_) / period_ns_));
    while (deadline_of(next) < now_ns)
        ++next;  // rounding: a step or two
    counters::add(counts_.skipped_ticks, next - tick_);
    tick_ = next;
}

PacingReport SourcePacer::report() const noexcept {
    return PacingReport{rate_hz_,
                        counters::read(counts_.ticks),
                        counters::read(counts_.late_ticks),
                        counters::read(counts_.skipped_ticks),
                        counters::read(counts_.max_lateness_ns),
                        counters::read(counts_.total_lateness_ns)};
}

}  // namespace dhub::runtime
