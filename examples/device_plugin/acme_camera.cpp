// SPDX-License-Identifier: Apache-2.0
// An example device plugin: a camera whose driver delivers frames on its own thread through a callback.
// That is queue mode: the component drives its node in run(), pushing each frame into the output channel
// as the driver hands it over. The "driver" here is simulated; a real one would be the vendor's SDK.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>

#include "dhub/sdk/plugin.hpp"

namespace acme {

/// What one slot of the output channel holds. Trivially copyable: it lives in shared memory.
struct Frame {
    std::uint64_t frame_number;
    std::uint64_t exposure_start_ns;
    std::uint32_t width;
    std::uint32_t height;
    std::uint8_t pixels[64 * 48];
};

/// Stand-in for a vendor driver: calls on_frame from its own thread at the configured frame rate.
class SimulatedDriver {
public:
    using FrameCallback = std::function<void(const std::uint8_t* pixels, std::uint64_t number, std::uint64_t time_ns)>;

    void start(double fps, FrameCallback on_frame) {
        running_ = true;
        thread_ = std::thread([this, fps, on_frame = std::move(on_frame)] {
            std::uint8_t pixels[sizeof(Frame::pixels)];
            const auto period = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / fps));
            auto next = std::chrono::steady_clock::now();
            for (std::uint64_t number = 0; running_; ++number) {
                std::memset(pixels, static_cast<int>(number & 0xFF), sizeof pixels);
                on_frame(pixels, number,
                         static_cast<std::uint64_t>(next.time_since_epoch() / std::chrono::nanoseconds(1)));
                next += period;
                std::this_thread::sleep_until(next);
            }
        });
    }
    void stop() {
        running_ = false;
        if (thread_.joinable()) thread_.join();
    }

private:
    std::atomic<bool> running_{false};
    std::thread thread_;
};

class Camera : public dhub::sdk::QueueComponent<DHUB_KIND_SOURCE> {
public:
    static constexpr const char* id = "acme.source.camera";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "ACME 64x48 camera (simulated driver, queue mode)";
    static constexpr const char* params_schema = R"json([
        {"name": "fps", "type": "number", "default": 30, "min": 0.1, "max": 1000, "unit": "Hz",
         "doc": "frames per second"}
    ])json";
    static constexpr const char* output_schema = "acme.frame@1";
    using output_type = Frame;  // lets the kernel check that the channel's slots can hold a Frame

    explicit Camera(dhub::sdk::NodeContext& context) : fps_(context.params().number("fps")) {}

    dhub_status run(dhub::sdk::NodeContext& context) {
        const auto output = context.output<Frame>();
        std::atomic<dhub_status> failure{DHUB_OK};  // written by the driver thread
        // The driver's thread pushes each frame straight into a slot of the channel (one copy: from the
        // driver's buffer into shared memory, as the driver hands out its own buffer).
        driver_.start(fps_, [&](const std::uint8_t* pixels, std::uint64_t number, std::uint64_t time_ns) {
            const dhub_status pushed = output.push(
                [&](dhub::sdk::OutputSlot<Frame>& slot) {
                    Frame& frame = slot.value();
                    frame.frame_number = number;
                    frame.exposure_start_ns = time_ns;
                    frame.width = 64;
                    frame.height = 48;
                    std::memcpy(frame.pixels, pixels, sizeof frame.pixels);
                    slot.set_bytes(sizeof(Frame));
                    slot.set_timestamp_ns(time_ns);
                    return true;
                },
                /*timeout_ns=*/100'000'000);
            if (pushed == DHUB_TIMEOUT)
                context.log().warn("frame " + std::to_string(number) + " dropped: channel full");
            if (dhub_status_is_error(pushed)) failure.store(pushed);
        });
        // This thread only waits for the stop request.
        while (!context.stop_requested() && failure.load() == DHUB_OK) {
            (void)context.sleep_until(context.now_ns() + 50'000'000);
        }
        driver_.stop();
        return failure.load() == DHUB_OK ? DHUB_STOPPING : failure.load();
    }

private:
    double fps_;
    SimulatedDriver driver_;
};

}  // namespace acme

DHUB_PLUGIN("acme_camera", "1.0.0", "Apache-2.0", "ACME cameras for dhub", dhub::sdk::component<acme::Camera>());
