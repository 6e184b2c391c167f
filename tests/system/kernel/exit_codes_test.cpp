// SPDX-License-Identifier: Apache-2.0
// Every tool's exit codes mean the same, and its --help says so truthfully: each scenario's exit code is
// one the tool's --help lists, with the shared meaning (dhub/base/exit_code.hpp).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "dhub/base/exit_code.hpp"
#include "kernel_support.hpp"

namespace dhub::testing {
namespace {

struct ToolRun {
    int code = -1;
    std::string output;
};

ToolRun run_tool(const TempDir& dir, const std::string& program, const std::vector<std::string>& arguments) {
    const auto log = dir / "tool.log";
    auto child = ChildProcess::spawn(program, arguments, log.string());
    const ExitStatus status = child.wait(std::chrono::seconds(30));
    return {status.exited ? status.code : -1, read_text_file(log.string())};
}

/// The "exit codes:" section of a --help text: code -> its line.
std::map<int, std::string> documented_codes(const std::string& help) {
    std::map<int, std::string> codes;
    const auto section = help.find("\nexit codes:\n");
    if (section == std::string::npos) return codes;
    std::istringstream lines(help.substr(section + 13));
    const std::regex entry(R"(^  (\d+)\s+(.*)$)");
    std::string line;
    std::smatch match;
    while (std::getline(lines, line) && std::regex_match(line, match, entry)) {
        codes[std::stoi(match[1])] = match[2];
    }
    return codes;
}

class ExitCodes : public ::testing::Test {
protected:
    /// Asserts that the tool's --help lists exactly these codes, each with the shared meaning.
    void expect_help_lists(const std::string& program, std::initializer_list<ExitCode> expected) {
        const ToolRun help = run_tool(dir_, program, {"--help"});
        ASSERT_EQ(help.code, 0) << help.output;
        const auto codes = documented_codes(help.output);
        EXPECT_EQ(codes.size(), expected.size()) << program << " --help:\n" << help.output;
        for (const ExitCode code : expected) {
            const auto found = codes.find(to_int(code));
            ASSERT_NE(found, codes.end()) << program << " --help does not list " << to_int(code) << ":\n"
                                          << help.output;
            EXPECT_EQ(found->second.rfind(meaning(code), 0), 0u) << program << ": " << found->second;
        }
        documented_[program] = codes;
    }
    /// The scenario ended with the code its tool documents for it.
    void expect_exit(const std::string& program, const std::vector<std::string>& arguments, ExitCode expected) {
        const ToolRun run = run_tool(dir_, program, arguments);
        EXPECT_EQ(run.code, to_int(expected)) << program << ": " << run.output;
        EXPECT_EQ(documented_[program].count(run.code), 1u)
            << program << " exited " << run.code << ", a code its --help does not list";
    }

    TempDir dir_;
    std::map<std::string, std::map<int, std::string>> documented_;
};

TEST_F(ExitCodes, KernelHelpIsTrue) {
    expect_help_lists(DHUB_KERNEL, {ExitCode::Ok, ExitCode::InvalidInput, ExitCode::Usage, ExitCode::PluginError,
                                    ExitCode::RuntimeError, ExitCode::Interrupted});
    expect_exit(DHUB_KERNEL, {"--no-such-option"}, ExitCode::Usage);
    std::ofstream(dir_ / "bad.json") << "{ \"schema_version\": 1, ";
    expect_exit(DHUB_KERNEL, {(dir_ / "bad.json").string()}, ExitCode::InvalidInput);
    const nlohmann::json missing_plugin = {
        {"schema_version", 1},
        {"channels", {{{"name", "a"}, {"slot_bytes", 64}}}},
        {"nodes", {{{"id", "cam"}, {"plugin", "no_such_camera"}, {"outputs", {"a"}}}}}};
    expect_exit(DHUB_KERNEL, {write_graph(dir_, missing_plugin).string()}, ExitCode::PluginError);
    expect_exit(DHUB_KERNEL, {"--plugin-path", DHUB_TEST_PLUGIN_DIR, "--describe", "test_abi_major"},
                ExitCode::PluginError);
}

TEST_F(ExitCodes, BrokerHelpIsTrue) {
    expect_help_lists(DHUB_BROKER_BIN, {ExitCode::Ok, ExitCode::InvalidInput, ExitCode::Usage, ExitCode::RuntimeError});
    expect_exit(DHUB_BROKER_BIN, {"--no-such-option"}, ExitCode::Usage);
    std::ofstream(dir_ / "garbage.key") << "not a key\n";
    expect_exit(DHUB_BROKER_BIN, {"--secret-key-file", (dir_ / "garbage.key").string()}, ExitCode::InvalidInput);
    expect_exit(DHUB_BROKER_BIN, {"--endpoint", "tcp://256.1.1.1:1"}, ExitCode::RuntimeError);
}

TEST_F(ExitCodes, KeygenHelpIsTrue) {
    expect_help_lists(DHUB_KEYGEN_BIN, {ExitCode::Ok, ExitCode::InvalidInput, ExitCode::Usage, ExitCode::RuntimeError});
    expect_exit(DHUB_KEYGEN_BIN, {}, ExitCode::Usage);
    expect_exit(DHUB_KEYGEN_BIN, {"k", "--dir", dir_.path().string()}, ExitCode::Ok);
    expect_exit(DHUB_KEYGEN_BIN, {"k", "--dir", dir_.path().string()}, ExitCode::InvalidInput);  // exists
    expect_exit(DHUB_KEYGEN_BIN, {"k", "--dir", (dir_ / "no" / "such" / "dir").string()}, ExitCode::RuntimeError);
}

TEST_F(ExitCodes, CtlHelpIsTrue) {
    expect_help_lists(DHUB_CTL, {ExitCode::Ok, ExitCode::InvalidInput, ExitCode::Usage, ExitCode::RuntimeError});
    expect_exit(DHUB_CTL, {"frobnicate"}, ExitCode::Usage);
    expect_exit(DHUB_CTL, {"nodes", "--no-such-option"}, ExitCode::Usage);
    expect_exit(DHUB_CTL, {"nodes", "--kernel", "no-such-kernel-exit-codes-test"}, ExitCode::InvalidInput);
    expect_exit(DHUB_CTL, {"kernels"}, ExitCode::Ok);
}

TEST_F(ExitCodes, ShmToolHelpIsTrue) {
    expect_help_lists(DHUB_SHM_CLI, {ExitCode::Ok, ExitCode::InvalidInput, ExitCode::Usage, ExitCode::RuntimeError});
    expect_exit(DHUB_SHM_CLI, {"frobnicate"}, ExitCode::Usage);
    expect_exit(DHUB_SHM_CLI, {"inspect", "no-such-channel-exit-codes-test"}, ExitCode::InvalidInput);
}

}  // namespace
}  // namespace dhub::testing
