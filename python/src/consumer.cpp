// SPDX-License-Identifier: Apache-2.0
#include "consumer.hpp"

#include <pybind11/stl.h>

#include <utility>
#include <vector>

#include "blocking.hpp"
#include "channel_flex.hpp"
#include "errors.hpp"
#include "slot_arrays.hpp"
#include "slot_layout.hpp"
#include "view_space.hpp"

namespace dhub::python {
namespace py = pybind11;

namespace {

shm::Delivery delivery_from(const std::string& name) {
    if (name == "channel") return shm::Delivery::Channel;
    if (name == "latest") return shm::Delivery::Latest;
    raise(Error{ErrorCode::InvalidArgument,
                "delivery '" + name + "': give 'channel' (the channel's policy) or 'latest'"});
}

}  // namespace

class HeldRead;

/// What a consumer and the slots it handed out share: a slot may outlive its consumer's close().
struct ConsumerCore {
    std::string channel;
    std::optional<shm::Consumer> consumer;  ///< nullopt once closed
    std::unique_ptr<ViewSpace> views;
    SlotLayout layout;
    std::string schema_document;  ///< what the segment stores ("" none)
    HeldRead* outstanding = nullptr;
    std::function<void()> on_close;
    /// Reads waiting with the GIL released: close() must not pull the consumer from under them.
    int waiting = 0;

    shm::Consumer& open_consumer() {
        if (!consumer) raise(Error{ErrorCode::InvalidArgument, "consumer of '" + channel + "' is closed"});
        return *consumer;
    }
};

/// One read (a slot, or a burst of slots) until it is released.
class HeldRead {
public:
    HeldRead(std::shared_ptr<ConsumerCore> core, shm::ReadBurst burst)
        : core_(std::move(core)), burst_(std::move(burst)) {
        core_->outstanding = this;
    }
    HeldRead(const HeldRead&) = delete;
    HeldRead& operator=(const HeldRead&) = delete;
    ~HeldRead() {
        try {
            release();
        } catch (py::error_already_set& error) {
            error.discard_as_unraisable(__func__);
        }
    }

    std::size_t size() const noexcept { return released_ ? sizes_.size() : burst_.size(); }
    bool released() const noexcept { return released_; }

    std::uint64_t sequence(std::size_t i) const { return released_ ? sequences_.at(i) : burst_.sequence(check(i)); }
    std::uint64_t timestamp_ns(std::size_t i) const {
        return released_ ? timestamps_.at(i) : burst_.timestamp_ns(check(i));
    }
    std::size_t bytes(std::size_t i) const { return released_ ? sizes_.at(i) : burst_.payload(check(i)).size(); }

    py::object array(std::size_t i) {
        if (released_) {
            raise(Raise::SlotReleased,
                  "slot " + std::to_string(sequences_.at(i)) + " of '" + core_->channel +
                      "' was released (its with block ended): copy what you keep inside the block");
        }
        if (arrays_.size() < burst_.size()) arrays_.resize(burst_.size());
        py::object& array = arrays_.at(check(i));
        if (!array) {
            const auto payload = burst_.payload(i);
            array = made_.make(*core_->views, core_->layout, payload.data(), payload.size(), true);
        }
        return array;
    }

    /// Hands the slots back; with keep > 0 (lossless) the last `keep` of them are read again, first, by the next read.
    void release(std::size_t keep = 0) {
        if (released_) return;
        // Remember what a released slot still answers.
        for (std::size_t i = 0; i < burst_.size(); ++i) {
            sequences_.push_back(burst_.sequence(i));
            timestamps_.push_back(burst_.timestamp_ns(i));
            sizes_.push_back(burst_.payload(i).size());
        }
        released_ = true;
        arrays_.clear();
        made_.release(*core_->views);
        // hold is on: a latest-only slot is never rewritten while held, so release never says Overwritten.
        (void)(keep == 0 ? burst_.release() : burst_.release(burst_.size() - std::min(keep, burst_.size())));
        if (core_->outstanding == this) core_->outstanding = nullptr;
        made_.warn_if_due();
    }

private:
    std::size_t check(std::size_t i) const {
        if (i >= burst_.size())
            throw py::index_error("slot index " + std::to_string(i) + " of a burst of " +
                                  std::to_string(burst_.size()));
        return i;
    }

    std::shared_ptr<ConsumerCore> core_;
    shm::ReadBurst burst_;
    bool released_ = false;
    std::vector<py::object> arrays_;
    SlotArrays made_;
    std::vector<std::uint64_t> sequences_, timestamps_;
    std::vector<std::size_t> sizes_;
};

class PyConsumer {
public:
    explicit PyConsumer(std::shared_ptr<ConsumerCore> core) : core_(std::move(core)) {}
    ~PyConsumer() {
        try {
            close();
        } catch (py::error_already_set& error) {
            error.discard_as_unraisable(__func__);
        }
    }

    std::unique_ptr<HeldRead> read_burst(std::size_t max, const std::optional<double>& timeout) {
        shm::Consumer& consumer = core_->open_consumer();
        if (max == 0) raise(Error{ErrorCode::InvalidArgument, "max must be at least 1"});
        if (core_->outstanding != nullptr) core_->outstanding->release();  // one read at a time: the previous ends
        const WaitingCall waiting(core_->waiting);
        shm::ReadBurst burst = wait_without_gil(
            to_timeout(timeout), [&](shm::WaitOptions wait) { return consumer.acquire_burst(max, wait); });
        if (burst.status() == shm::Status::Timeout && closed_and_drained(consumer)) {
            // A poll (timeout 0) is answered Timeout by the DataBlock even when nothing more can ever come.
            raise(shm::Status::Closed, "reading '" + core_->channel + "'");
        }
        if (!burst) raise(burst.status(), "reading '" + core_->channel + "'");
        return std::make_unique<HeldRead>(core_, std::move(burst));
    }

    void close() {
        if (!core_->consumer) return;
        if (core_->waiting > 0) {
            raise(
                Error{ErrorCode::InvalidArgument, "consumer of '" + core_->channel +
                                                      "' is reading in another thread; close it when the read returns "
                                                      "(give read() a timeout to have it return)"});
        }
        // The slot goes back and the consumer closes even if Python is told something on the way (a warning raised
        // as an error); that is raised last.
        std::optional<py::error_already_set> pending;
        if (core_->outstanding != nullptr) {
            try {
                core_->outstanding->release();
            } catch (py::error_already_set& error) {
                pending.emplace(std::move(error));
            }
        }
        core_->consumer.reset();
        core_->views->retire();
        if (auto on_close = std::exchange(core_->on_close, {})) {
            py::gil_scoped_release released;  // a broker deregistration waits for its answer
            on_close();
        }
        if (pending) throw *pending;
    }

    const std::shared_ptr<ConsumerCore>& core() const noexcept { return core_; }

private:
    static bool closed_and_drained(const shm::Consumer& consumer) {
        return consumer.view().header().closed.load(std::memory_order_acquire) != 0 && consumer.backlog() == 0;
    }

    std::shared_ptr<ConsumerCore> core_;
};

namespace {

std::unique_ptr<PyConsumer> consumer_over(shm::Consumer consumer,
                                          const std::optional<SchemaArgument>& expected,
                                          std::function<void()> on_close) {
    auto core = std::make_shared<ConsumerCore>();
    const shm::ChannelView& view = consumer.view();
    core->channel = view.channel();
    core->schema_document = std::string(view.schema_descriptor());
    if (expected) check_readable(*expected, core->channel, view.header().schema_hash, core->schema_document);
    // A reader of an older version sees the fields it knows: its own layout, which only appended fields follow.
    const std::string& document = expected && !expected->document.empty() ? expected->document : core->schema_document;
    core->layout = SlotLayout::from_document(document);
    if (core->layout.size() > view.slot_payload_bytes()) {
        raise(Error{ErrorCode::Incompatible, "channel '" + core->channel + "' has slots of " +
                                                 std::to_string(view.slot_payload_bytes()) +
                                                 " bytes; its schema needs " + std::to_string(core->layout.size())});
    }
    core->views =
        std::make_unique<ViewSpace>(view.segment().data(), view.segment().size(), view.slot_payload_bytes(), false);
    core->consumer.emplace(std::move(consumer));
    core->on_close = std::move(on_close);
    return std::make_unique<PyConsumer>(std::move(core));
}

std::unique_ptr<PyConsumer> attach(const std::string& channel,
                                   const std::string& name,
                                   py::handle schema,
                                   const std::string& delivery,
                                   const std::string& attach_secret,
                                   double ready_timeout) {
    const std::optional<SchemaArgument> expected = schema_argument(schema);
    shm::ConsumerOptions options;
    options.name = name;
    options.hold = true;  // a latest-only slot is never rewritten under a numpy view
    options.delivery = delivery_from(delivery);
    options.attach_secret = attach_secret;
    options.ready_timeout = to_timeout(ready_timeout);
    auto attached = [&] {
        py::gil_scoped_release released;
        return shm::Consumer::attach(channel, options);
    }();
    return consumer_over(value_or_raise(std::move(attached)), expected, {});
}

/// Reads one slot (the Python object keeps the HeldRead).
struct PyReadSlot {
    std::unique_ptr<HeldRead> held;
};
struct PyReadBurst {
    std::unique_ptr<HeldRead> held;
};

}  // namespace

py::object make_consumer(shm::Consumer consumer,
                         const std::optional<SchemaArgument>& expected,
                         std::function<void()> on_close) {
    return py::cast(consumer_over(std::move(consumer), expected, std::move(on_close)));
}

void bind_consumer(py::module_& module) {
    py::class_<PyReadSlot>(module, "ReadSlot",
                           "One slot being read, in place in shared memory. Use it in a with block: leaving the block "
                           "releases it. `array` is a read-only numpy view typed by the channel's schema; after the "
                           "slot is released, `array` raises dhub.SlotReleased, and an array kept from before keeps "
                           "the values it had (it is cut loose from the ring, never reads a reused slot).")
        .def_property_readonly(
            "array", [](PyReadSlot& slot) { return slot.held->array(0); },
            "The slot as a read-only numpy array: dtype and shape from the channel's schema, or "
            "its committed bytes as uint8.")
        .def_property_readonly("sequence", [](const PyReadSlot& slot) { return slot.held->sequence(0); })
        .def_property_readonly(
            "timestamp_ns", [](const PyReadSlot& slot) { return slot.held->timestamp_ns(0); },
            "The producer's stamp (CLOCK_MONOTONIC ns unless it gave its own).")
        .def_property_readonly(
            "size", [](const PyReadSlot& slot) { return slot.held->bytes(0); }, "Committed bytes.")
        .def_property_readonly("released", [](const PyReadSlot& slot) { return slot.held->released(); })
        .def(
            "release", [](PyReadSlot& slot) { slot.held->release(); }, "Hands the slot back (idempotent).")
        .def("__enter__", [](py::object self) { return self; })
        .def("__exit__", [](PyReadSlot& slot, const py::args&) {
            slot.held->release();
            return false;
        });

    py::class_<PyReadBurst>(module, "ReadBurst",
                            "Consecutive slots read together (lossless channels; latest-only: the newest slot). "
                            "burst[i] is slot i's array; leaving the with block releases them all.")
        .def("__len__", [](const PyReadBurst& burst) { return burst.held->size(); })
        .def("__getitem__", [](PyReadBurst& burst, std::size_t i) { return burst.held->array(i); })
        .def_property_readonly("arrays",
                               [](PyReadBurst& burst) {
                                   py::list arrays;
                                   for (std::size_t i = 0; i < burst.held->size(); ++i)
                                       arrays.append(burst.held->array(i));
                                   return arrays;
                               })
        .def_property_readonly("sequences",
                               [](const PyReadBurst& burst) {
                                   std::vector<std::uint64_t> values;
                                   for (std::size_t i = 0; i < burst.held->size(); ++i)
                                       values.push_back(burst.held->sequence(i));
                                   return values;
                               })
        .def_property_readonly("timestamps_ns",
                               [](const PyReadBurst& burst) {
                                   std::vector<std::uint64_t> values;
                                   for (std::size_t i = 0; i < burst.held->size(); ++i)
                                       values.push_back(burst.held->timestamp_ns(i));
                                   return values;
                               })
        .def_property_readonly("sizes",
                               [](const PyReadBurst& burst) {
                                   std::vector<std::size_t> values;
                                   for (std::size_t i = 0; i < burst.held->size(); ++i)
                                       values.push_back(burst.held->bytes(i));
                                   return values;
                               })
        .def_property_readonly("released", [](const PyReadBurst& burst) { return burst.held->released(); })
        .def(
            "release",
            [](PyReadBurst& burst, std::optional<std::size_t> count) {
                const std::size_t size = burst.held->size();
                burst.held->release(count && *count < size ? size - *count : 0);
            },
            py::arg("count") = py::none(),
            "Hands back the first count slots (default: all); on a lossless channel the others are read again, "
            "first, by the next read. Every array of the burst ends either way.")
        .def("__enter__", [](py::object self) { return self; })
        .def("__exit__", [](PyReadBurst& burst, const py::args&) {
            burst.held->release();
            return false;
        });

    py::class_<PyConsumer>(module, "Consumer",
                           "The reading end of a channel on this host. Reads are zero copy: numpy views of the slots "
                           "in shared memory.")
        .def(py::init(&attach), py::arg("channel"), py::kw_only(), py::arg("name") = "python",
             py::arg("schema") = py::none(), py::arg("delivery") = "channel", py::arg("attach_secret") = "",
             py::arg("ready_timeout") = 1.0,
             "Attaches to `channel`. schema: the schema you read as (a dict, JSON text, a .json path or an id); "
             "dhub.SchemaMismatch if the channel's cannot be read as it. delivery: 'channel' (the channel's sync "
             "policy) or 'latest' (only the newest slot, never holding a lossless producer back).")
        .def(
            "read",
            [](PyConsumer& consumer, const std::optional<double>& timeout) {
                return PyReadSlot{consumer.read_burst(1, timeout)};
            },
            py::arg("timeout") = py::none(),
            "The next slot by the channel's policy. timeout in seconds (None: wait for ever; Ctrl-C interrupts). "
            "Raises dhub.Timeout, dhub.Closed (the producer closed and everything was read) or "
            "dhub.ChecksumMismatch. A slot still held from the previous read is released first.")
        .def(
            "read_burst",
            [](PyConsumer& consumer, std::size_t max, const std::optional<double>& timeout) {
                return PyReadBurst{consumer.read_burst(max, timeout)};
            },
            py::arg("max") = 64, py::arg("timeout") = py::none(),
            "Every committed unread slot, up to max (lossless channels; latest-only: the newest).")
        .def("__iter__", [](py::object self) { return self; })
        .def("__next__",
             [](PyConsumer& consumer) {
                 try {
                     return PyReadSlot{consumer.read_burst(1, std::nullopt)};
                 } catch (py::error_already_set& error) {
                     if (error.matches(error_class(Raise::Closed))) throw py::stop_iteration();
                     throw;
                 }
             })
        .def_property_readonly("channel", [](const PyConsumer& consumer) { return consumer.core()->channel; })
        .def_property_readonly(
            "schema",
            [](const PyConsumer& consumer) -> py::object {
                if (consumer.core()->schema_document.empty()) return py::none();
                return py::module_::import("json").attr("loads")(consumer.core()->schema_document);
            },
            "The typed schema document the channel's segment stores, or None.")
        .def_property_readonly(
            "layout", [](const PyConsumer& consumer) { return consumer.core()->layout.python(); },
            "How `array` looks: a dhub.SlotLayout (dtype, shape).")
        .def_property_readonly(
            "flex",
            [](const PyConsumer& consumer) {
                std::weak_ptr<ConsumerCore> weak = consumer.core();
                const std::string channel = consumer.core()->channel;
                return ChannelFlex(channel, [weak]() -> std::optional<shm::FlexZone> {
                    auto core = weak.lock();
                    if (!core || !core->consumer) return std::nullopt;
                    return core->consumer->flex_zone();
                });
            },
            "The channel's flex zone (shared metadata, consistent snapshots).")
        .def_property_readonly(
            "backlog", [](PyConsumer& consumer) { return consumer.core()->open_consumer().backlog(); },
            "Committed slots not read yet (latest-only: 0 or 1).")
        .def_property_readonly(
            "skipped", [](PyConsumer& consumer) { return consumer.core()->open_consumer().skipped(); },
            "Latest-only: slots committed since attaching that were never read.")
        .def_property_readonly("producer_alive",
                               [](PyConsumer& consumer) { return consumer.core()->open_consumer().producer_alive(); })
        .def_property_readonly("seat", [](PyConsumer& consumer) { return consumer.core()->open_consumer().seat(); })
        .def_property_readonly("closed", [](const PyConsumer& consumer) { return !consumer.core()->consumer; })
        .def("close", &PyConsumer::close, "Releases any slot held and leaves the channel (idempotent).")
        .def("__enter__", [](py::object self) { return self; })
        .def("__exit__", [](PyConsumer& consumer, const py::args&) {
            consumer.close();
            return false;
        });
}

}  // namespace dhub::python
