// SPDX-License-Identifier: Apache-2.0
// A burst stage run to completion on its upstream node's thread (docs/kernel.md, "Fused stages").
//
// When node threads outnumber the CPUs, a stage in a thread of its own costs its pipeline a third of what it
// moves: on two CPUs, source -> scale -> sink at 4 KiB ran at about 70 % of source -> sink, while a source doing
// scale's work itself ran at 97-100 % (dhub-bench --filter stage_path). The thread, not the work, is the cost:
// it needs a CPU the source and the sink already keep busy, and every hand-over through the ring is a wake-up
// and a cache line crossing CPUs. So the kernel lets the stage's producer run the stage's burst steps right
// after its own, while the slots it just wrote are still in its cache, as GStreamer's chain functions run on
// their upstream element's streaming thread.
//
// The stage keeps its own thread, which sleeps: it starts and stops the component, does what other threads ask
// of the node (pause, swap, a parameter), and takes the stage over whenever its driver cannot run it: the
// stage must wait for output room (the driver never waits for a stage: its own rings' readers would wait), it
// is busy with such a request, or the driver ended. Whoever runs a step holds `step`, so the component never sees
// two calls at once, and its state moves from one thread to the other through that mutex.
#pragma once

#include <atomic>
#include <mutex>

namespace dhub::runtime {

class Node;

struct StageChain {
    explicit StageChain(Node& stage_node) noexcept : stage(stage_node) {}

    /// Held by whichever thread runs the stage's steps: its driver (try_lock, never waiting) or its own.
    std::mutex step;
    /// Under `step`: the stage's thread runs its fused loop, so its driver may run its steps.
    bool active = false;
    /// Under `step`: the stage's thread left its fused loop for good; the driver forgets the chain.
    bool done = false;
    /// Under `step`: the stage needed output room on the driver's thread, which never waits for its stages; its
    /// own thread runs it, waiting as a node does, until its input is drained, then hands it back.
    bool own_turn = false;
    /// The driver found `step` taken (the stage's own thread had it) and has not run the stage since: slots it
    /// committed meanwhile may be waiting. The stage's thread, woken, gives the driver a moment to come back and
    /// runs them itself if it does not (a driver blocked on its output room never would).
    std::atomic<bool> pending{false};
    /// Guards stage_alive: the driver wakes the stage's thread without holding `step` (it found it taken), so it
    /// must know the stage still exists.
    std::mutex life;
    bool stage_alive = true;
    /// The driver's thread ended (its output is closed): the stage's thread runs the stage itself from now on.
    std::atomic<bool> driver_gone{false};
    /// Valid while !done: the stage's thread sets done, under `step`, before it ends.
    Node& stage;
};

}  // namespace dhub::runtime
