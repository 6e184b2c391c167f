// SPDX-License-Identifier: Apache-2.0
// Random damage to a valid document: parse_graph and validate_graph must never crash or throw, and must
// always give either a spec or at least one issue. The seed is fixed so a failure can be replayed.
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "dhub/graph/graph_spec.hpp"
#include "fake_components.hpp"

namespace dhub::graph {
namespace {

using testing::FakePlugins;
using testing::valid_document;
using Json = nlohmann::json;

constexpr std::uint32_t SEED = 20240521;
constexpr int TEXT_MUTATIONS = 3000;
constexpr int TREE_MUTATIONS = 2000;
constexpr int MAX_EDITS = 4;

class Mutator {
public:
    explicit Mutator(std::uint32_t seed) : random_(seed) {}

    std::size_t below(std::size_t bound) {
        return bound == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, bound - 1)(random_);
    }

    std::string damage_text(std::string text) {
        static const std::string INTERESTING = "{}[]\":,.-+eE0123456789tfnul \n\\/~\x01\xff";
        const std::size_t edits = 1 + below(MAX_EDITS);
        for (std::size_t edit = 0; edit < edits; ++edit) {
            const std::size_t at = below(text.size() + 1);
            switch (below(4)) {
                case 0:
                    text.erase(at, 1 + below(8));
                    break;
                case 1:
                    text.insert(at, 1, INTERESTING[below(INTERESTING.size())]);
                    break;
                case 2:
                    text.insert(at, 1, static_cast<char>(below(256)));
                    break;
                default:
                    text.insert(at, text.substr(below(text.size()), below(16)));
                    break;
            }
        }
        return text;
    }

    Json junk(int depth = 0) {
        switch (below(depth > 3 ? 9 : 12)) {
            case 0:
                return nullptr;
            case 1:
                return below(2) == 0;
            case 2:
                return 1e308;
            case 3:
                return -1;
            case 4:
                return std::numeric_limits<std::uint64_t>::max();
            case 5:
                return 0.5;
            case 6:
                return "";
            case 7:
                return std::string(1000, 'x');
            case 8:
                return "frames";
            case 9:
                return Json::array({junk(depth + 1), junk(depth + 1)});
            case 10:
                return Json{{"name", junk(depth + 1)}, {"id", junk(depth + 1)}};
            default: {
                Json nested = 1;
                for (int level = 0; level < 40; ++level)
                    nested = Json::array({nested});
                return nested;
            }
        }
    }

    void damage_tree(Json& document) {
        Json* target = &document;
        // Walk a few random steps down, then replace, remove or add something there.
        for (std::size_t step = below(5); step > 0 && (target->is_object() || target->is_array()) && !target->empty();
             --step) {
            auto element = target->begin();
            std::advance(element, static_cast<std::ptrdiff_t>(below(target->size())));
            target = &*element;
        }
        switch (below(3)) {
            case 0:
                *target = junk();
                break;
            case 1:
                if (target->is_object() && !target->empty()) {
                    auto element = target->begin();
                    std::advance(element, static_cast<std::ptrdiff_t>(below(target->size())));
                    target->erase(element);
                }
                break;
            default:
                if (target->is_object()) (*target)["extra"] = junk();
                if (target->is_array()) target->push_back(junk());
                break;
        }
    }

private:
    std::mt19937 random_;
};

void expect_spec_or_issues(const std::string& text, FakePlugins& plugins) {
    std::vector<GraphIssue> issues;
    std::optional<GraphSpec> spec;
    ASSERT_NO_THROW(spec = parse_graph(text, "fuzz.json", issues));
    ASSERT_TRUE(spec.has_value() || !issues.empty()) << text;
    if (spec) {
        ValidatedGraph graph;
        ASSERT_NO_THROW(graph = validate_graph(*spec, plugins.lookup(), issues));
        EXPECT_EQ(graph.nodes.size(), spec->nodes.size());
        EXPECT_EQ(graph.start_order.size(), spec->nodes.size());
    }
    ASSERT_NO_THROW((void)format_issues(issues, "fuzz.json"));
}

TEST(Robustness_test, DamagedTextNeverCrashes) {
    Mutator mutator(SEED);
    FakePlugins plugins;
    const std::string original = valid_document().dump(2);
    for (int round = 0; round < TEXT_MUTATIONS; ++round) {
        expect_spec_or_issues(mutator.damage_text(original), plugins);
        if (::testing::Test::HasFatalFailure()) return;
    }
}

TEST(Robustness_test, DamagedStructureNeverCrashes) {
    Mutator mutator(SEED + 1);
    FakePlugins plugins;
    for (int round = 0; round < TREE_MUTATIONS; ++round) {
        Json document = valid_document();
        const std::size_t edits = 1 + mutator.below(MAX_EDITS);
        for (std::size_t edit = 0; edit < edits; ++edit)
            mutator.damage_tree(document);
        expect_spec_or_issues(document.dump(-1, ' ', false, Json::error_handler_t::replace), plugins);
        if (::testing::Test::HasFatalFailure()) return;
    }
}

TEST(Robustness_test, WrongTypesEverywhereAreAllReported) {
    const Json document = {{"schema_version", "one"},
                           {"name", Json::array()},
                           {"plugin_path", 1},
                           {"channels", {1, "x", {{"name", 2}, {"slot_bytes", "big"}, {"ring", 3}}}},
                           {"nodes",
                            {{{"id", 1},
                              {"plugin", {1}},
                              {"params", 1},
                              {"inputs", {{}}},
                              {"outputs", "o"},
                              {"on_error", {{"action", 1}, {"max_consecutive", -1}}}}}}};
    std::vector<GraphIssue> issues;
    const auto spec = parse_graph(document.dump(), "", issues);
    EXPECT_GE(issues.size(), 14u) << format_issues(issues, "");
    if (spec) {
        FakePlugins plugins;
        EXPECT_NO_THROW((void)validate_graph(*spec, plugins.lookup(), issues));
    }
}

}  // namespace
}  // namespace dhub::graph
