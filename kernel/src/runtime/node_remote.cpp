// SPDX-License-Identifier: Apache-2.0
// Inputs another kernel produces ("broker:<channel>"): discovered through the broker, schema checked,
// attached with the attach secret, registered as consumer; detached and looked for again when the producer
// is lost, or the node ends, by the graph's on_producer_lost.
#include "broker_link.hpp"
#include "dhub/broker/protocol.hpp"
#include "dhub/events/event_log.hpp"
#include "dhub/runtime/graph_runner.hpp"
#include "dhub/schema/compatibility.hpp"
#include "dhub/schema/schema_json.hpp"
#include "dhub/shm/domain.hpp"
#include "node.hpp"
#include "node_internals.hpp"

namespace dhub::runtime {

using namespace detail;

bool Node::connect_remote_inputs() {
    connecting_remote_.store(true, std::memory_order_release);
    bool connected = true;
    for (Input& input : inputs_) {
        if (input.remote && !input.consumer && !connect_remote(input)) {
            connected = false;
            break;
        }
    }
    connecting_remote_.store(false, std::memory_order_release);
    return connected;
}

bool Node::connect_remote(Input& input) {
    BrokerLink& link = *runner_.broker_link();
    // A remote input's schema is what its port expects (Node::add_remote_input).
    const std::optional<std::string> expected = input.schema;
    const bool checks_schema = expected && !expected->empty() && *expected != "*";
    const shm::SchemaHash expected_hash = checks_schema ? schema::id_hash(*expected) : shm::SchemaHash{};
    const std::string expected_hex = checks_schema ? shm::to_hex(expected_hash.data(), expected_hash.size()) : "";
    std::string last_problem;
    std::chrono::milliseconds import_retry = REMOTE_RETRY;
    // Once per distinct problem, not once per retry. why: the event's "reason" (docs/kernel.md, "Events").
    auto report = [&](const char* why, const std::string& problem) {
        if (problem == last_problem) return;
        runner_.events().emit("input_waiting",
                              {{"node", id_}, {"input", input.channel}, {"reason", why}, {"detail", problem}});
        logger_->warn("{}input '{}': {}", log_prefix_, input.channel, problem);
        last_problem = problem;
    };
    while (!stop_requested()) {
        // Counted before discovering: a loss reported after this point is not one we have already handled.
        const std::uint64_t losses = link.losses(input.remote_name);
        auto found =
            link.client().discover(input.remote_name, REMOTE_DISCOVER_SLICE, [this] { return stop_requested(); });
        if (!found) {
            if (found.error().code == ErrorCode::Cancelled) break;
            // NotFound comes only from the broker's NOT_FOUND answer (code_for in broker_client.cpp).
            const bool not_yet = found.error().code == ErrorCode::NotFound;
            report(not_yet ? "not_published" : "discover_failed",
                   not_yet ? "waiting for another kernel to publish '" + input.remote_name + "'"
                           : "discovering '" + input.remote_name + "': " + found.error().message);
            if (!not_yet) sleep_for(REMOTE_RETRY);  // a parked DISCOVER already waited
            continue;
        }
        broker::ChannelRegistration channel = found->registration;
        // A producer in another shared-memory domain (another host) is read through the transport its kernel
        // serves the channel on; same-domain ones (older kernels register none) through their segment.
        const bool foreign = !channel.shm_domain.empty() && channel.shm_domain != shm::domain_id();
        std::string via;
        if (foreign) {
            if (!channel.transport.is_object()) {
                report("no_transport", "'" + input.remote_name +
                                           "' is published by a kernel on another host (shared-memory domain " +
                                           channel.shm_domain +
                                           "), which serves no transport for it: give that kernel's broker section "
                                           "an \"export\" (docs/transports.md), or, if it has one, see its log for "
                                           "why its sender does not serve (export_unavailable)");
                sleep_for(REMOTE_RETRY);
                continue;
            }
            auto imported = runner_.import_channel(channel, [this] { return stop_requested(); });
            if (!imported) {
                if (imported.error().code == ErrorCode::Cancelled) break;
                // NotFound: the receiver ended on a channel its producer closed, as attach_failed says locally.
                report(imported.error().code == ErrorCode::NotFound ? "attach_failed" : "import_failed",
                       "reading '" + input.remote_name + "' from another host: " + imported.error().message);
                // Each attempt that gets as far as adding a receiver costs a make and a removal of its ring: a
                // registration that keeps failing is tried less and less often.
                sleep_for(import_retry);
                import_retry = std::min(import_retry * 2, IMPORT_RETRY_MAX);
                continue;
            }
            import_retry = REMOTE_RETRY;
            channel.segment = imported->segment;
            channel.attach_secret = imported->attach_secret;
            via = imported->endpoint;
        }
        const auto refuse_schema = [&](const std::string& problem) {
            count_error(DHUB_ERR_SCHEMA_MISMATCH, "input '" + input.channel + "': " + problem);
            finish(EndReason::SchemaMismatch, "input '" + input.channel + "': " + problem);
            return false;
        };
        // Another hash is another schema or another version of it: with both documents (the graph or a plugin
        // declares the expected one, the producer registered its own) the evolution rule decides, as at load
        // for local edges. The broker's copy only filters early: the segment's own descriptor decides below.
        const bool evolved = checks_schema && channel.schema_hash != expected_hex;
        // A producer whose document was too big for the broker registered none: the segment decides alone.
        if (evolved && !(input.expected_schema.is_object() && !channel.schema.is_object())) {
            const bool documents = input.expected_schema.is_object() && channel.schema.is_object();
            const schema::Verdict verdict =
                documents ? schema::check_readable(input.expected_schema, channel.schema) : schema::Verdict{};
            if (!verdict.accepted) {
                return refuse_schema(
                    "channel '" + input.remote_name + "' carries schema hash " + channel.schema_hash +
                    ", but component " + component_.id + " expects " + *expected + " (hash " + expected_hex + ")" +
                    (documents ? ": " + verdict.why
                               : "; connect it to a channel of that schema (with the typed schema of " + *expected +
                                     " declared, by the graph's \"schemas\" or the plugin, newer versions that only "
                                     "appended fields are accepted)"));
            }
        }
        shm::ConsumerOptions options;
        options.name = id_;
        options.hold = true;  // a handler acts on the slot in place: it must never change under it
        options.delivery = input.delivery;
        options.attach_secret = channel.attach_secret;
        if (checks_schema && !evolved) options.expect.schema_hash = expected_hash;
        auto attached = shm::Consumer::attach(channel.segment, options);
        if (attached && evolved) {
            // Accepted for the schema the broker named: the segment must carry that one, not a later producer's.
            const auto& stored = attached->view().header().schema_hash;
            if (shm::to_hex(stored, sizeof stored) != channel.schema_hash) {
                attached = Error{ErrorCode::SchemaMismatch, "its schema hash is not the one the broker named"};
            }
        }
        if (attached && checks_schema && input.expected_schema.is_object()) {
            // What the slots really hold is what the segment stores. A hash names only the schema id, so an id
            // reused for other fields, or a registration that does not match its segment, is caught here.
            std::string_view stored = attached->view().schema_descriptor();
            // An import's segment stores the document only if this graph knows the schema; the producer's own
            // segment stored it, and its registration carries it.
            const std::string registered =
                foreign && stored.empty() && channel.schema.is_object() ? channel.schema.dump() : "";
            if (!registered.empty()) stored = registered;
            if (stored.empty() && evolved) {
                return refuse_schema("channel '" + input.remote_name + "' carries schema hash " + channel.schema_hash +
                                     " and stores no typed schema, so the evolution rule cannot accept it for " +
                                     *expected);
            }
            if (!stored.empty()) {
                const nlohmann::json document = nlohmann::json::parse(stored, nullptr, /*allow_exceptions=*/false);
                std::vector<schema::Problem> problems;
                if (!evolved && !schema::parse_schema(document, "", problems)) {
                    // The same id: a producer kernel newer than this one may write a document format this one
                    // does not read yet. The id is what was promised; the fields cannot be compared here.
                    logger_->warn(
                        "{}input '{}': the segment's schema document for {} is not one this kernel reads "
                        "({}); attached on the schema id alone",
                        log_prefix_, input.channel, *expected,
                        problems.empty() ? std::string("not JSON") : problems.front().message);
                } else if (const schema::Verdict verdict = schema::check_readable(input.expected_schema, document);
                           !verdict.accepted) {
                    return refuse_schema("the segment of channel '" + input.remote_name + "' stores a schema " +
                                         component_.id + " cannot read: " + verdict.why);
                }
            }
        }
        if (!attached) {
            // Typically a producer that died or restarted after the broker answered: look again shortly.
            report("attach_failed", "attaching to '" + input.remote_name + "' (segment " + channel.segment +
                                        "): " + attached.error().message);
            sleep_for(REMOTE_RETRY);
            continue;
        }
        if (attached->view().header().closed.load(std::memory_order_acquire) != 0) {
            // Its producer closed it and has not withdrawn it from the broker yet: attaching again at once
            // would only find it closed again, in a tight loop, until the segment is gone.
            report("attach_failed", "channel '" + input.remote_name + "' (segment " + channel.segment +
                                        ") is closed; waiting for its producer to publish it again");
            sleep_for(REMOTE_RETRY);
            continue;
        }
        // A component that takes any schema ("*") expects what the channel carries.
        // The document goes along only where the broker needs it (the hashes differ) and fits a message.
        const bool send_document = evolved && input.expected_schema.dump().size() <= broker::MAX_BODY_BYTES / 2;
        broker::ConsumerRegistration registration{input.remote_name, link.self_tag(id_),
                                                  checks_schema ? expected_hex : channel.schema_hash,
                                                  send_document ? input.expected_schema : nlohmann::json()};
        if (auto registered = link.client().register_consumer(registration); !registered) {
            const bool broker_had_both_documents = send_document && channel.schema.is_object();
            if (registered.error().code == ErrorCode::SchemaMismatch && evolved && !broker_had_both_documents &&
                input.expected_schema.is_object()) {
                // Accepted above by the segment's own document, but a document was too big for the broker to
                // judge by: the broker only counts consumers, so its refusal is not the data plane's.
                logger_->warn(
                    "{}input '{}': the broker refused the consumer registration ({}), but the "
                    "segment's schema was accepted by the evolution rule; reading on",
                    log_prefix_, input.channel, registered.error().message);
            } else if (registered.error().code == ErrorCode::SchemaMismatch) {
                count_error(DHUB_ERR_SCHEMA_MISMATCH, "input '" + input.channel + "': " + registered.error().message);
                finish(EndReason::SchemaMismatch, "input '" + input.channel + "': " + registered.error().message);
                return false;
            }
            // The data plane does not need it: the broker only counts consumers and tells the producer.
            logger_->warn("{}input '{}': attached, but the broker did not take the consumer registration: {}",
                          log_prefix_, input.channel, registered.error().message);
        } else {
            runner_.events().emit("consumer_registered", {{"node", id_}, {"input", input.channel}});
        }
        input.consumer.emplace(std::move(attached.value()));
        // Its sync policy is the producer's, known only now: the ledger says whether it may have gaps.
        input_counts_[static_cast<std::size_t>(&input - inputs_.data())].latest.store(
            input.consumer->latest_only() ? 1 : 0, std::memory_order_relaxed);
        input.losses_seen = losses;
        logger_->info("{}input '{}' attached to segment {} ({} other consumers){}", log_prefix_, input.channel,
                      channel.segment, found->consumer_count, via.empty() ? "" : ", received from " + via);
        nlohmann::json attached_event = {{"node", id_},
                                         {"input", input.channel},
                                         {"segment", channel.segment},
                                         {"other_consumers", found->consumer_count}};
        if (!via.empty()) attached_event["via"] = via;
        runner_.events().emit("input_attached", attached_event);
        if (&input == &inputs_[0]) prepare_frame();
        return true;
    }
    finish(EndReason::Stopped, "stopped on request");
    return false;
}

Node::Step Node::on_remote_lost(Input& input, const char* cause, const char* what) {
    BrokerLink& link = *runner_.broker_link();
    logger_->warn("{}input '{}' lost: {}", log_prefix_, input.channel, what);
    runner_.events().emit("input_lost", {{"node", id_}, {"input", input.channel}, {"cause", cause}, {"detail", what}});
    if (link.client().connected()) (void)link.client().deregister_consumer(input.remote_name, link.self_tag(id_));
    input.held.reset();
    input.window.reset();
    drop_consumer(input);
    if (link.spec().on_producer_lost == graph::BrokerSpec::OnProducerLost::StopNode) {
        finish(EndReason::ProducerLost,
               "producer of input '" + input.channel + "' lost (broker on_producer_lost: stop_node)");
        return Step::Finished;
    }
    logger_->info("{}waiting for '{}' to come back (broker on_producer_lost: wait)", log_prefix_, input.remote_name);
    runner_.events().emit("input_waiting", {{"node", id_},
                                            {"input", input.channel},
                                            {"reason", "producer_lost"},
                                            {"detail", "waiting for '" + input.remote_name + "' to come back"}});
    return connect_remote(input) ? Step::Continue : Step::Finished;
}

}  // namespace dhub::runtime
