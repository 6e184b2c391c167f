// SPDX-License-Identifier: Apache-2.0
// Fused stages (stage_chain.hpp): a burst stage whose steps its producer's thread runs right after its own, and
// the stage's own thread, which sleeps until it is needed.
#include "node.hpp"
#include "node_internals.hpp"

namespace dhub::runtime {

using namespace detail;

bool Node::runs_realtime_loop() const noexcept {
    return descriptor_.run == nullptr &&
           !(descriptor_.process_ports != nullptr && (component_.multi_port() || descriptor_.process == nullptr));
}

bool Node::fusable() const noexcept {
    // Its input must hold the producer back already: a latest-only reader run on the producer's thread would make
    // the producer wait for its output room, which a latest-only reader promises never to do.
    return fuse_allowed_ && component_.kind == plugin::ComponentKind::Stage && runs_realtime_loop() && !cpu_ &&
           uses_bursts() && inputs_.size() == 1 && !inputs_[0].remote && inputs_[0].consumer &&
           !inputs_[0].consumer->latest_only();
}

void Node::run_fused() {
    StageChain& chain = *chain_;
    prepare_frame();
    std::unique_lock step(chain.step);
    chain.active = true;
    bool take_over = false;  // it leaves the fused loop to run the stage itself, with its own loop
    bool look_now = true;    // slots may have come before the driver could run them
    for (;;) {
        if (!look_now) {
            step.unlock();
            {
                // The driver runs the steps; this thread wakes for what only it may do, and looks once a slice in
                // case a wake-up was missed.
                std::unique_lock lock(sleep_mutex_);
                sleep_wakeup_.wait_for(lock, WAIT_SLICE, [&] {
                    return wake_fused_ || stop_requested() || attention_.load(std::memory_order_relaxed) ||
                           chain.pending.load() || chain.driver_gone.load();
                });
                wake_fused_ = false;
            }
            step.lock();
        }
        look_now = false;
        chain.pending.store(false);
        counters::bump(counts_.progress);
        if (driven_finished_) break;  // a step on the driver's thread ended the node (it recorded why)
        if (inbox_.pending()) drain_messages();
        if (stop_requested() || !attend_requests()) {
            finish(EndReason::Stopped, "stopped on request");
            break;
        }
        // A swap may have brought a component without bursts; a driver that ended leaves the end of the input
        // (its close, and slots offered a last time) to the stage's own loop.
        if (!bursts_ || chain.driver_gone.load()) {
            take_over = true;
            break;
        }
        // What the driver did not run (it found the step taken, or the stage was paused): run here, waiting for
        // output room as a node's thread does.
        if (run_fused_steps(/*on_driver=*/false) == Step::Finished) break;
    }
    chain.active = false;
    chain.done = true;
    step.unlock();
    if (!take_over) return;
    logger_->info("{}runs on its own thread from now on ({})", log_prefix_,
                  bursts_ ? "its upstream node ended" : "its component has no burst handler now");
    run_realtime();
}

Node::Step Node::run_fused_steps(bool on_driver) {
    const shm::Consumer& input = *inputs_[0].consumer;
    // declined_: slots the stage saw and left for more (an n:1 stage); it is offered them again with more.
    while (!stop_requested() && input.backlog() > declined_) {
        // A pause, swap or parameter change is done by the stage's own thread, which the request woke.
        if (on_driver && attention_.load(std::memory_order_relaxed)) return Step::Continue;
        counters::bump(counts_.progress);
        if (inbox_.pending()) drain_messages();
        const bool sampled = sample_this_step();
        if (sampled) step_started_ns_ = monotonic_ns();
        const Step step = stage_burst_step();
        if (sampled) record_sample();
        if (step == Step::Finished) return step;
        if (!driven_.empty()) drive_stages();
    }
    return Step::Continue;
}

void Node::drive_stages() {
    for (std::size_t index = 0; index < driven_.size();) {
        StageChain& chain = *driven_[index];
        std::unique_lock step(chain.step, std::try_to_lock);
        if (!step.owns_lock()) {
            // Its own thread has it: that thread looks again before it sleeps (or this try, after the flag, wins).
            chain.pending.store(true);
            if (!step.try_lock()) {
                ++index;
                continue;
            }
        }
        if (chain.done) {
            step.unlock();
            driven_.erase(driven_.begin() + static_cast<std::ptrdiff_t>(index));
            continue;
        }
        Node& stage = chain.stage;
        if (chain.active && !stage.driven_finished_ && !stage.stop_requested() &&
            stage.run_fused_steps(/*on_driver=*/true) == Step::Finished) {
            stage.driven_finished_ = true;
            stage.wake_fused();
        }
        ++index;
    }
}

void Node::release_driven_stages() noexcept {
    for (const std::shared_ptr<StageChain>& chain : driven_) {
        chain->driver_gone.store(true);
        // Without waiting: a stage's thread that holds the step (paused, say) sees the flag before it sleeps.
        std::unique_lock step(chain->step, std::try_to_lock);
        if (step.owns_lock() && !chain->done) chain->stage.wake_fused();
    }
    driven_.clear();
}

void Node::wake_fused() noexcept {
    const std::lock_guard lock(sleep_mutex_);
    wake_fused_ = true;
    sleep_wakeup_.notify_all();
}

}  // namespace dhub::runtime
