// SPDX-License-Identifier: Apache-2.0
// dhub.Broker: discovery through a dhub broker (the kernels' control plane), with the same CurveZMQ keys and
// allowlist the kernels use. Broker.consumer() is what a dhub-kernel node does for a "broker:<channel>" input:
// discover, check the schema (evolution rule), attach with the channel's attach secret, register the consumer.
#include "broker.hpp"

#include <pybind11/stl.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "blocking.hpp"
#include "consumer.hpp"
#include "dhub/base/process_identity.hpp"
#include "dhub/broker/broker_client.hpp"
#include "dhub/broker/keys.hpp"
#include "dhub/schema/compatibility.hpp"
#include "dhub/shm/checksum.hpp"
#include "errors.hpp"
#include "schema_argument.hpp"

namespace dhub::python {
namespace py = pybind11;
namespace {

using namespace std::chrono_literals;

py::object to_python(const nlohmann::json& value) {
    return py::module_::import("json").attr("loads")(value.dump());
}

nlohmann::json summary_json(const broker::ChannelInfo& info) {
    const broker::ChannelRegistration& channel = info.registration;
    return {{"name", channel.name},
            {"segment", channel.segment},
            {"schema_hash", channel.schema_hash},
            {"schema", channel.schema},
            {"policies", channel.policies},
            {"slot_bytes", channel.slot_bytes},
            {"slot_count", channel.slot_count},
            {"producer", {{"pid", channel.producer.pid}, {"name", channel.producer.name}}},
            {"consumer_count", info.consumer_count}};
}

/// Runs a call with the GIL released; then lets Python see its signals.
template <typename Call>
auto wait_slice(Call&& call) {
    auto result = [&] {
        py::gil_scoped_release released;
        return call();
    }();
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    return result;
}

class PyBroker {
public:
    PyBroker(const std::string& endpoint,
             const std::optional<std::string>& server_key,
             const std::optional<std::string>& client_key,
             const std::string& name,
             double timeout) {
        broker::ClientConfig config;
        config.endpoint = endpoint;
        config.name = name;
        config.role = "python";
        if (server_key.has_value() != client_key.has_value()) {
            raise(Error{ErrorCode::InvalidArgument,
                        "give both server_key (the broker's NAME.pub file) and client_key (your NAME.key "
                        "file), or neither"});
        }
        if (server_key) {
            config.server_public_key = value_or_raise(broker::read_key_file(*server_key, broker::KeyKind::Public));
            const std::string secret = value_or_raise(broker::read_key_file(*client_key, broker::KeyKind::Secret));
            config.client_keys = {value_or_raise(broker::public_key_of(secret)), secret};
        }
        client_ = std::make_shared<broker::BrokerClient>(std::move(config));
        value_or_raise(client_->start());
        const auto deadline = std::chrono::steady_clock::now() + to_timeout(timeout);
        while (!wait_slice([&] { return client_->wait_connected(SIGNAL_SLICE); })) {
            if (std::chrono::steady_clock::now() >= deadline) {
                client_->stop();
                raise(Raise::Timeout,
                      "broker " + endpoint + " did not answer within " + std::to_string(timeout) +
                          " s (is it running? are the keys right? a refused key is logged by the broker)");
            }
        }
        endpoint_ = endpoint;
    }

    py::list channels() {
        broker::BrokerClient& broker = client();  // resolved with the GIL held: it may raise
        auto listed = wait_slice([&] { return broker.list(); });
        py::list result;
        for (const broker::ChannelSummary& channel : value_or_raise(std::move(listed))) {
            result.append(to_python({{"name", channel.name},
                                     {"segment", channel.segment},
                                     {"schema_hash", channel.schema_hash},
                                     {"producer", {{"pid", channel.producer.pid}, {"name", channel.producer.name}}},
                                     {"consumer_count", channel.consumer_count}}));
        }
        return result;
    }

    py::object discover(const std::string& channel, double timeout) {
        return to_python(summary_json(find(channel, timeout)));
    }

    py::object consumer(const std::string& channel,
                        const std::string& name,
                        const py::object& schema,
                        const std::string& delivery,
                        double timeout) {
        const std::optional<SchemaArgument> expected = schema_argument(schema);
        const broker::ChannelInfo found = find(channel, timeout);
        const broker::ChannelRegistration& registration = found.registration;
        std::string expected_hex;
        nlohmann::json expected_document;
        if (expected) {
            const shm::SchemaHash hash = schema::id_hash(expected->id);
            expected_hex = shm::to_hex(hash.data(), hash.size());
            if (!expected->document.empty()) expected_document = nlohmann::json::parse(expected->document);
            // The broker's copy first: a refusal needs no attach. The segment's own document is judged after.
            if (expected_hex != registration.schema_hash && expected_document.is_object() &&
                registration.schema.is_object()) {
                const schema::Verdict verdict = schema::check_readable(expected_document, registration.schema);
                if (!verdict.accepted) raise(Raise::SchemaMismatch, "channel '" + channel + "': " + verdict.why);
            }
        }
        shm::ConsumerOptions options;
        options.name = name;
        options.hold = true;
        options.delivery = delivery == "latest" ? shm::Delivery::Latest : shm::Delivery::Channel;
        if (delivery != "latest" && delivery != "channel") {
            raise(Error{ErrorCode::InvalidArgument, "delivery '" + delivery + "': give 'channel' or 'latest'"});
        }
        options.attach_secret = registration.attach_secret;
        auto attached = [&] {
            py::gil_scoped_release released;
            return shm::Consumer::attach(registration.segment, options);
        }();
        if (!attached) {
            raise(Error{attached.error().code, "attaching to '" + channel + "' (segment " + registration.segment +
                                                   ", as the broker at " + endpoint_ +
                                                   " named it): " + attached.error().message});
        }
        const ProcessIdentity self = ProcessIdentity::self();
        const broker::ProcessTag tag{self.pid, self.start_ticks, name};
        std::weak_ptr<broker::BrokerClient> weak = client_;
        auto reader = make_consumer(std::move(attached.value()), expected, [weak, channel, tag] {
            if (auto client = weak.lock(); client && client->connected())
                (void)client->deregister_consumer(channel, tag);
        });
        broker::ConsumerRegistration consumer{
            channel, tag, expected ? expected_hex : registration.schema_hash,
            expected_hex != registration.schema_hash ? expected_document : nlohmann::json()};
        broker::BrokerClient& broker = client();
        auto registered = wait_slice([&] { return broker.register_consumer(consumer); });
        if (!registered && registered.error().code == ErrorCode::SchemaMismatch) raise(registered.error());
        // Otherwise the data plane does not need it: the broker only counts consumers and tells the producer.
        return reader;
    }

    void close() {
        if (!client_) return;
        py::gil_scoped_release released;  // the client's thread ends; consumers made here deregister without it
        client_->stop();
        client_.reset();
    }

private:
    broker::BrokerClient& client() {
        if (!client_) raise(Error{ErrorCode::InvalidArgument, "the broker connection is closed"});
        return *client_;
    }

    broker::ChannelInfo find(const std::string& channel, double timeout) {
        const auto deadline = std::chrono::steady_clock::now() + to_timeout(timeout);
        for (;;) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            const auto wait = std::clamp<std::chrono::milliseconds>(left, 0ms, 100ms);
            broker::BrokerClient& broker = client();
            auto found = wait_slice([&] { return broker.discover(channel, wait); });
            if (found) return std::move(found.value());
            if (found.error().code != ErrorCode::NotFound || left <= 0ms) {
                raise(Error{found.error().code, "broker " + endpoint_ + ": " + found.error().message});
            }
        }
    }

    std::shared_ptr<broker::BrokerClient> client_;
    std::string endpoint_;
};

}  // namespace

void bind_broker(py::module_& module) {
    py::class_<PyBroker>(module, "Broker",
                         "A connection to a dhub broker: discovery of the channels every kernel publishes, and "
                         "consumers attached to them with the channel's attach secret.")
        .def(py::init<const std::string&, const std::optional<std::string>&, const std::optional<std::string>&,
                      const std::string&, double>(),
             py::arg("endpoint") = "tcp://127.0.0.1:5570", py::kw_only(), py::arg("server_key") = py::none(),
             py::arg("client_key") = py::none(), py::arg("name") = "python", py::arg("timeout") = 5.0,
             "server_key: the broker's public key file (dhub-keygen's NAME.pub); client_key: your secret key file "
             "(NAME.key), whose public key must be in the broker's allowlist. Neither: no CurveZMQ. Raises "
             "dhub.Timeout when the broker does not answer within timeout seconds.")
        .def("channels", &PyBroker::channels, "Every channel the broker knows, as dicts.")
        .def("discover", &PyBroker::discover, py::arg("channel"), py::arg("timeout") = 0.0,
             "The broker's registration of channel (waiting up to timeout s for it to appear); dhub.NotFound.")
        .def("consumer", &PyBroker::consumer, py::arg("channel"), py::kw_only(), py::arg("name") = "python",
             py::arg("schema") = py::none(), py::arg("delivery") = "channel", py::arg("timeout") = 5.0,
             "A dhub.Consumer of channel, found through the broker (waiting up to timeout s for it to be "
             "published) and registered with it. schema: the schema you read as; dhub.SchemaMismatch if the "
             "channel's cannot be read as it.")
        .def("close", &PyBroker::close)
        .def("__enter__", [](py::object self) { return self; })
        .def("__exit__", [](PyBroker& broker, const py::args&) {
            broker.close();
            return false;
        });
}

}  // namespace dhub::python
