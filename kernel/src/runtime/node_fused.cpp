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
    // Its input must hold the producer back already: run on the producer's thread, it delays the producer by its
    // work, which a latest-only reader promises never to do.
    return fuse_allowed_ && component_.kind == plugin::ComponentKind::Stage && runs_realtime_loop() && !cpu_ &&
           uses_bursts() && inputs_.size() == 1 && !inputs_[0].remote && inputs_[0].consumer &&
           !inputs_[0].consumer->latest_only() && outputs_.size() == 1 && outputs_[0].gate == nullptr;
}

void Node::run_fused() {
    StageChain& chain = *chain_;
    prepare_frame();
    std::unique_lock step(chain.step);
    chain.active = true;
    bool take_over = false;  // it leaves the fused loop to run the stage itself, with its own loop
    // Slots may have come before the driver could run them: the first look runs what is there.
    bool run_now = true;
    std::uint64_t taken_at_look = ~std::uint64_t{0};  // slots_in at the last slice's look
    for (;;) {
        chain.pending.store(false);
        counters::bump(counts_.progress);
        if (driven_finished_) break;  // a step on the driver's thread ended the node (it recorded why)
        if (inbox_.pending()) drain_messages();
        if (stop_requested() || !attend_requests()) {
            finish(EndReason::Stopped, "stopped on request");
            break;
        }
        // A swap may have brought a component that cannot be fused; a driver that ended leaves the end of the input
        // (its close, and slots offered a last time) to the stage's own loop.
        if (!fusable() || chain.driver_gone.load()) {
            take_over = true;
            break;
        }
        // What the driver left (slots that need output room, slots that came while this thread had the stage),
        // waiting for room as a node's thread does: what is there now, no more, so that a fast driver gets its
        // stage back instead of this thread keeping it while the driver refills the input.
        if (run_now && run_fused_steps(/*on_driver=*/false, inputs_[0].consumer->backlog()) == Step::Finished) break;
        chain.own_turn = false;  // the driver runs the next ones
        step.unlock();

        const auto requested = [&] {
            return stop_requested() || attention_.load(std::memory_order_relaxed) || chain.driver_gone.load();
        };
        std::unique_lock lock(sleep_mutex_);
        const bool woken = sleep_wakeup_.wait_for(lock, WAIT_SLICE,
                                                  [&] { return wake_fused_ || chain.pending.load() || requested(); });
        bool handed = std::exchange(wake_fused_, false);
        if (woken && !handed && !requested()) {
            // The driver found the step taken while this thread had it: a moment for it to come back and run what
            // it committed meanwhile; if it does not, this thread runs it.
            sleep_wakeup_.wait_for(lock, PENDING_GRACE, [&] { return wake_fused_ || requested(); });
            handed = std::exchange(wake_fused_, false);
        }
        lock.unlock();
        step.lock();
        const std::uint64_t taken = counters::read(counts_.slots_in);
        // A slice with nothing asked: slots the stage has not taken since the last slice were left behind unseen.
        const bool orphans = !woken && taken == taken_at_look;
        taken_at_look = taken;
        run_now = handed || chain.pending.load() || orphans;
    }
    // Under the same hold as the decision: the driver runs no step of a stage that cannot be fused any more. (The
    // end of thread_main leaves the chain for good, leave_chain.)
    chain.active = false;
    chain.done = true;
    step.unlock();
    if (!take_over) return;
    const bool driver_ended = chain.driver_gone.load();
    logger_->info("{}runs on its own thread from now on ({})", log_prefix_,
                  driver_ended ? "its upstream node ended" : "its new component cannot be fused");
    runner_.stage_took_its_thread_back(*this, driver_ended);
    run_realtime();
}

Node::Step Node::run_fused_steps(bool on_driver, std::uint64_t most) {
    const shm::Consumer& input = *inputs_[0].consumer;
    const std::uint64_t taken_before = counters::read(counts_.slots_in);
    // declined_: slots the stage saw and left for more (an n:1 stage); it is offered them again with more.
    while (!stop_requested() && input.backlog() > declined_ && counters::read(counts_.slots_in) - taken_before < most) {
        // A pause, swap or parameter change first: the stage's own thread does it, which the request woke.
        if (attention_.load(std::memory_order_relaxed)) return Step::Continue;
        counters::bump(counts_.progress);
        if (inbox_.pending()) drain_messages();
        const bool sampled = sample_this_step();
        if (sampled) step_started_ns_ = monotonic_ns();
        driven_now_ = on_driver;
        const Step step = stage_burst_step();
        driven_now_ = false;
        if (sampled) record_sample();
        if (step == Step::Finished || step == Step::MustWait) return step;
        if (!driven_.empty()) drive_stages();
    }
    return Step::Continue;
}

void Node::drive_stages() {
    for (std::size_t index = 0; index < driven_.size();) {
        StageChain& chain = *driven_[index];
        std::unique_lock step(chain.step, std::try_to_lock);
        if (!step.owns_lock()) {
            // Its own thread has it: see StageChain::pending. Woken once per hold, not at every step.
            if (!chain.pending.exchange(true)) {
                const std::lock_guard life(chain.life);
                if (chain.stage_alive) chain.stage.nudge_fused();
            }
            ++index;
            continue;
        }
        if (chain.done) {
            step.unlock();
            driven_.erase(driven_.begin() + static_cast<std::ptrdiff_t>(index));
            continue;
        }
        chain.pending.store(false);
        Node& stage = chain.stage;
        if (chain.active && !chain.own_turn && !stage.driven_finished_ && !stage.stop_requested()) {
            switch (stage.run_fused_steps(/*on_driver=*/true)) {
                case Step::Finished:
                    stage.driven_finished_ = true;
                    stage.wake_fused();
                    break;
                case Step::MustWait:
                    chain.own_turn = true;
                    stage.wake_fused();
                    break;
                default:
                    break;
            }
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

void Node::leave_chain() {
    if (!chain_) return;
    {
        const std::lock_guard step(chain_->step);
        chain_->active = false;
        chain_->done = true;
    }
    const std::lock_guard life(chain_->life);
    chain_->stage_alive = false;
}

void Node::nudge_fused() noexcept {
    const std::lock_guard lock(sleep_mutex_);
    sleep_wakeup_.notify_all();
}

void Node::wake_fused() noexcept {
    const std::lock_guard lock(sleep_mutex_);
    wake_fused_ = true;
    sleep_wakeup_.notify_all();
}

}  // namespace dhub::runtime
