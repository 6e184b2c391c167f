// SPDX-License-Identifier: Apache-2.0
#include "producer.hpp"

#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "blocking.hpp"
#include "channel_flex.hpp"
#include "dhub/shm/producer.hpp"
#include "errors.hpp"
#include "schema_argument.hpp"
#include "slot_arrays.hpp"
#include "slot_layout.hpp"
#include "view_space.hpp"

namespace dhub::python {
namespace py = pybind11;
namespace {

template <typename Enum>
Enum choice(const std::string& what,
            const std::string& value,
            std::initializer_list<std::pair<const char*, Enum>> names) {
    std::string known;
    for (const auto& [name, enumerator] : names) {
        if (value == name) return enumerator;
        known += known.empty() ? std::string("'") + name + "'" : std::string(", '") + name + "'";
    }
    raise(Error{ErrorCode::InvalidArgument, what + " '" + value + "': give one of " + known});
}

class HeldWrite;

struct ProducerCore {
    std::string channel;
    std::optional<shm::Producer> producer;  ///< nullopt once closed
    std::unique_ptr<ViewSpace> views;
    SlotLayout layout;
    std::size_t commit_bytes = 0;  ///< what a slot committed without a size carries
    HeldWrite* outstanding = nullptr;
    /// Writes waiting with the GIL released: close() must not pull the producer from under them.
    int waiting = 0;

    shm::Producer& open_producer() {
        if (!producer) raise(Error{ErrorCode::InvalidArgument, "producer of '" + channel + "' is closed"});
        return *producer;
    }
};

/// One write (a slot, or a burst of slots) until it is committed or aborted.
class HeldWrite {
public:
    HeldWrite(std::shared_ptr<ProducerCore> core, shm::WriteBurst burst)
        : core_(std::move(core)),
          burst_(std::move(burst)),
          sizes_(burst_.size(), core_->commit_bytes),
          stamps_(burst_.size(), 0) {
        core_->outstanding = this;
    }
    HeldWrite(const HeldWrite&) = delete;
    HeldWrite& operator=(const HeldWrite&) = delete;
    ~HeldWrite() {
        try {
            finish(0);
        } catch (py::error_already_set& error) {
            error.discard_as_unraisable(__func__);
        }
    }

    std::size_t size() const noexcept { return sizes_.size(); }
    bool done() const noexcept { return done_; }
    std::uint64_t sequence(std::size_t i) const { return first_sequence_ + check(i); }

    py::object array(std::size_t i) {
        if (done_)
            raise(Raise::SlotReleased, "slot " + std::to_string(sequence(i)) + " of '" + core_->channel +
                                           "' was already " + (committed_ ? "committed" : "aborted"));
        if (arrays_.size() < size()) arrays_.resize(size());
        py::object& array = arrays_.at(check(i));
        if (!array) {
            const auto payload = burst_.payload(i);
            array = made_.make(*core_->views, core_->layout, payload.data(), payload.size(), false);
        }
        return array;
    }

    void set(std::size_t i, std::optional<std::size_t> bytes, std::uint64_t timestamp_ns) {
        if (done_) {
            raise(Raise::SlotReleased, "slot " + std::to_string(sequence(i)) + " of '" + core_->channel +
                                           "' was already " + (committed_ ? "committed" : "aborted"));
        }
        if (bytes) {
            if (*bytes > burst_.payload(check(i)).size()) {
                raise(shm::Status::TooLarge, "slot of '" + core_->channel + "' (" + std::to_string(*bytes) +
                                                 " bytes in " + std::to_string(burst_.payload(i).size()) + ")");
            }
            sizes_.at(i) = *bytes;
        }
        stamps_.at(check(i)) = timestamp_ns;
    }

    /// Publishes the first count slots (their sizes and stamps as set) and gives the others back.
    void commit(std::size_t count) {
        if (done_)
            raise(Raise::SlotReleased,
                  "slots of '" + core_->channel + "' were already " + (committed_ ? "committed" : "aborted"));
        count = std::min(count, size());
        for (std::size_t i = 0; i < count; ++i)
            (void)burst_.stamp(i, sizes_[i], stamps_[i]);
        end_views();
        const shm::Status status = burst_.commit(count);
        committed_ = true;
        if (status != shm::Status::Ok) raise(status, "committing to '" + core_->channel + "'");
        made_.warn_if_due();
    }

    /// Aborts what is not committed yet; idempotent.
    void finish(std::size_t) {
        if (done_) return;
        end_views();
        burst_.abort();
        made_.warn_if_due();
    }

private:
    std::size_t check(std::size_t i) const {
        if (i >= size())
            throw py::index_error("slot index " + std::to_string(i) + " of a burst of " + std::to_string(size()));
        return i;
    }
    void end_views() {
        first_sequence_ = burst_.size() > 0 ? burst_.sequence(0) : first_sequence_;
        done_ = true;
        arrays_.clear();
        made_.release(*core_->views);
        if (core_->outstanding == this) core_->outstanding = nullptr;
    }

    std::shared_ptr<ProducerCore> core_;
    shm::WriteBurst burst_;
    std::uint64_t first_sequence_ = burst_.size() > 0 ? burst_.sequence(0) : 0;
    std::vector<std::size_t> sizes_;
    std::vector<std::uint64_t> stamps_;
    bool done_ = false;
    bool committed_ = false;
    std::vector<py::object> arrays_;
    SlotArrays made_;
};

struct PyWriteSlot {
    std::unique_ptr<HeldWrite> held;
};
struct PyWriteBurst {
    std::unique_ptr<HeldWrite> held;
};

class PyProducer {
public:
    PyProducer(const std::string& channel,
               std::optional<std::size_t> slot_bytes,
               std::uint32_t slots,
               const std::string& sync,
               const std::string& checksum,
               std::size_t flex_bytes,
               std::uint32_t max_consumers,
               const py::object& schema,
               std::uint32_t mode,
               const std::string& attach_secret)
        : core_(std::make_shared<ProducerCore>()) {
        shm::ChannelConfig config;
        config.name = channel;
        const std::optional<SchemaArgument> typed = schema_argument(schema);
        if (typed && typed->document.empty()) {
            raise(Error{ErrorCode::InvalidArgument, "schema '" + typed->id +
                                                        "': a producer needs the schema's document "
                                                        "(a dict, JSON text or a .json path), not only its id"});
        }
        core_->layout = SlotLayout::from_document(typed ? typed->document : "");
        const std::size_t value_bytes =
            typed ? core_->layout.python().attr("size").cast<std::size_t>() : std::size_t{0};
        config.slot_bytes = slot_bytes.value_or(typed ? value_bytes : 4096);
        if (typed && config.slot_bytes < value_bytes) {
            raise(Error{ErrorCode::InvalidArgument, "slot_bytes " + std::to_string(config.slot_bytes) +
                                                        " is less than schema " + typed->id + " needs (" +
                                                        std::to_string(value_bytes) + ")"});
        }
        if (slots == 1) {
            config.ring = shm::RingPolicy::Single;
        } else if (slots == 2) {
            config.ring = shm::RingPolicy::Double;
        } else {
            config.ring = shm::RingPolicy::Ring;
        }
        config.slot_count = slots;
        config.sync = choice<shm::SyncPolicy>("sync", sync,
                                              {{"single", shm::SyncPolicy::SingleReader},
                                               {"every", shm::SyncPolicy::EveryReader},
                                               {"latest", shm::SyncPolicy::LatestOnly}});
        config.checksum = choice<shm::ChecksumPolicy>("checksum", checksum,
                                                      {{"none", shm::ChecksumPolicy::None},
                                                       {"compute", shm::ChecksumPolicy::Compute},
                                                       {"verify", shm::ChecksumPolicy::Verify}});
        config.flex_zone_bytes = flex_bytes;
        config.max_consumers = max_consumers;
        config.mode = static_cast<mode_t>(mode);
        config.attach_secret = attach_secret;
        if (typed) {
            config.schema_hash = schema::id_hash(typed->id);
            config.schema_descriptor = typed->document;
        }
        auto created = [&] {
            py::gil_scoped_release released;
            return shm::Producer::create(config);
        }();
        core_->producer.emplace(value_or_raise(std::move(created)));
        const shm::ChannelView& view = core_->producer->view();
        core_->channel = channel;
        core_->views =
            std::make_unique<ViewSpace>(view.segment().data(), view.segment().size(), view.slot_payload_bytes(), true);
        core_->commit_bytes = typed ? value_bytes : view.slot_payload_bytes();
    }
    ~PyProducer() {
        try {
            close();
        } catch (py::error_already_set& error) {
            error.discard_as_unraisable(__func__);
        }
    }

    std::unique_ptr<HeldWrite> write_burst(std::size_t max, const std::optional<double>& timeout) {
        shm::Producer& producer = core_->open_producer();
        if (max == 0) raise(Error{ErrorCode::InvalidArgument, "max must be at least 1"});
        if (core_->outstanding != nullptr) {
            raise(Error{ErrorCode::InvalidArgument, "a slot of '" + core_->channel +
                                                        "' is still being written: commit or abort it (leave its with "
                                                        "block) before the next write"});
        }
        const WaitingCall waiting(core_->waiting);
        shm::WriteBurst burst = wait_without_gil(
            to_timeout(timeout), [&](shm::WaitOptions wait) { return producer.acquire_burst(max, wait); });
        if (!burst) raise(burst.status(), "writing '" + core_->channel + "'");
        return std::make_unique<HeldWrite>(core_, std::move(burst));
    }

    void close() {
        if (!core_->producer) return;
        if (core_->waiting > 0) {
            raise(Error{ErrorCode::InvalidArgument, "producer of '" + core_->channel +
                                                        "' is waiting for a slot in another thread; close it when the "
                                                        "write returns (give write() a timeout to have it return)"});
        }
        std::optional<py::error_already_set> pending;
        if (core_->outstanding != nullptr) {
            try {
                core_->outstanding->finish(0);
            } catch (py::error_already_set& error) {
                pending.emplace(std::move(error));
            }
        }
        core_->producer.reset();
        core_->views->retire();
        if (pending) throw *pending;
    }

    const std::shared_ptr<ProducerCore>& core() const noexcept { return core_; }

private:
    std::shared_ptr<ProducerCore> core_;
};

void exit_write(HeldWrite& held, const py::object& error_type) {
    if (held.done()) return;
    if (error_type.is_none()) {
        held.commit(held.size());
    } else {
        held.finish(0);
    }
}

}  // namespace

void bind_producer(py::module_& module) {
    py::class_<PyWriteSlot>(module, "WriteSlot",
                            "A slot being written, in place in shared memory. Fill `array`; leaving the with block "
                            "commits it (an exception aborts it).")
        .def_property_readonly(
            "array", [](PyWriteSlot& slot) { return slot.held->array(0); },
            "The slot as a writable numpy array: dtype and shape from the channel's schema, or all "
            "of its bytes as uint8.")
        .def_property_readonly("sequence", [](const PyWriteSlot& slot) { return slot.held->sequence(0); })
        .def_property_readonly("done", [](const PyWriteSlot& slot) { return slot.held->done(); })
        .def(
            "commit",
            [](PyWriteSlot& slot, std::optional<std::size_t> size, std::uint64_t timestamp_ns) {
                slot.held->set(0, size, timestamp_ns);
                slot.held->commit(1);
            },
            py::arg("size") = py::none(), py::arg("timestamp_ns") = 0,
            "Publishes the slot: size bytes (default: the schema's size, or the whole slot), stamped timestamp_ns "
            "(0: now, CLOCK_MONOTONIC).")
        .def(
            "abort", [](PyWriteSlot& slot) { slot.held->finish(0); }, "Gives the slot back unpublished.")
        .def("__enter__", [](py::object self) { return self; })
        .def("__exit__", [](PyWriteSlot& slot, const py::object& type, const py::object&, const py::object&) {
            exit_write(*slot.held, type);
            return false;
        });

    py::class_<PyWriteBurst>(module, "WriteBurst",
                             "Consecutive slots written together and published with one store. burst[i] is slot "
                             "i's writable array; leaving the with block commits them all.")
        .def("__len__", [](const PyWriteBurst& burst) { return burst.held->size(); })
        .def("__getitem__", [](PyWriteBurst& burst, std::size_t i) { return burst.held->array(i); })
        .def_property_readonly("arrays",
                               [](PyWriteBurst& burst) {
                                   py::list arrays;
                                   for (std::size_t i = 0; i < burst.held->size(); ++i)
                                       arrays.append(burst.held->array(i));
                                   return arrays;
                               })
        .def_property_readonly("sequences",
                               [](const PyWriteBurst& burst) {
                                   std::vector<std::uint64_t> values;
                                   for (std::size_t i = 0; i < burst.held->size(); ++i)
                                       values.push_back(burst.held->sequence(i));
                                   return values;
                               })
        .def(
            "set",
            [](PyWriteBurst& burst, std::size_t i, std::optional<std::size_t> size, std::uint64_t timestamp_ns) {
                burst.held->set(i, size, timestamp_ns);
            },
            py::arg("index"), py::arg("size") = py::none(), py::arg("timestamp_ns") = 0,
            "Sets slot index's committed size and stamp (defaults as for WriteSlot.commit).")
        .def(
            "commit",
            [](PyWriteBurst& burst, std::optional<std::size_t> count) {
                burst.held->commit(count.value_or(burst.held->size()));
            },
            py::arg("count") = py::none(), "Publishes the first count slots (default: all); the rest go back.")
        .def("abort", [](PyWriteBurst& burst) { burst.held->finish(0); })
        .def("__enter__", [](py::object self) { return self; })
        .def("__exit__", [](PyWriteBurst& burst, const py::object& type, const py::object&, const py::object&) {
            exit_write(*burst.held, type);
            return false;
        });

    py::class_<PyProducer>(module, "Producer",
                           "The writing end of a channel: creates its shared-memory segment (or takes over one whose "
                           "producer died). Writes are zero copy: numpy views of the slots.")
        .def(py::init<const std::string&, std::optional<std::size_t>, std::uint32_t, const std::string&,
                      const std::string&, std::size_t, std::uint32_t, const py::object&, std::uint32_t,
                      const std::string&>(),
             py::arg("channel"), py::kw_only(), py::arg("slot_bytes") = py::none(), py::arg("slots") = 8,
             py::arg("sync") = "single", py::arg("checksum") = "none", py::arg("flex_bytes") = 0,
             py::arg("max_consumers") = 16, py::arg("schema") = py::none(), py::arg("mode") = 0600,
             py::arg("attach_secret") = "",
             "slots: ring size (1 single, 2 double, N a ring); sync: 'single' (one lossless reader), 'every' (every "
             "reader sees every slot, the producer waits for the slowest) or 'latest' (readers take the newest, the "
             "producer never waits); checksum: 'none', 'compute' or 'verify' (BLAKE2b per slot); schema: a typed "
             "schema document (dict, JSON text or .json path) stored in the segment, so readers get typed arrays; "
             "slot_bytes defaults to the schema's size, else 4096.")
        .def(
            "write",
            [](PyProducer& producer, const std::optional<double>& timeout) {
                return PyWriteSlot{producer.write_burst(1, timeout)};
            },
            py::arg("timeout") = py::none(),
            "A free slot to fill (None: wait for ever for one; Ctrl-C interrupts). dhub.Timeout when readers hold "
            "the ring full.")
        .def(
            "write_burst",
            [](PyProducer& producer, std::size_t max, const std::optional<double>& timeout) {
                return PyWriteBurst{producer.write_burst(max, timeout)};
            },
            py::arg("max") = 64, py::arg("timeout") = py::none(), "Up to max consecutive free slots.")
        .def_property_readonly("channel", [](const PyProducer& producer) { return producer.core()->channel; })
        .def_property_readonly("next_sequence",
                               [](PyProducer& producer) { return producer.core()->open_producer().next_sequence(); })
        .def_property_readonly("layout", [](const PyProducer& producer) { return producer.core()->layout.python(); })
        .def_property_readonly(
            "slot_bytes",
            [](PyProducer& producer) { return producer.core()->open_producer().view().slot_payload_bytes(); })
        .def_property_readonly("flex",
                               [](const PyProducer& producer) {
                                   std::weak_ptr<ProducerCore> weak = producer.core();
                                   return ChannelFlex(producer.core()->channel,
                                                      [weak]() -> std::optional<shm::FlexZone> {
                                                          auto core = weak.lock();
                                                          if (!core || !core->producer) return std::nullopt;
                                                          return core->producer->flex_zone();
                                                      });
                               })
        .def(
            "heartbeat", [](PyProducer& producer) { producer.core()->open_producer().heartbeat(); },
            "Tells readers the producer is alive; writes do it too.")
        .def_property_readonly("closed", [](const PyProducer& producer) { return !producer.core()->producer; })
        .def("close", &PyProducer::close,
             "Closes the channel: readers drain what was written, then get dhub.Closed; the name is removed.")
        .def("__enter__", [](py::object self) { return self; })
        .def("__exit__", [](PyProducer& producer, const py::args&) {
            producer.close();
            return false;
        });
}

}  // namespace dhub::python
