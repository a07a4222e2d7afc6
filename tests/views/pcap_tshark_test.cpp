// tshark reads the pcap of every view run with no warning, and its
// follow-stream gives back, for each connection and direction, exactly the
// bytes the run sent: with partial sends, short reads, a reset, a stall and
// the chapter's deadlock.

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <fmt/core.h>
#include <gtest/gtest.h>

#include "ferry/harness/real_driver.h"
#include "ferry/views/pcap.h"
#include "tests/views/view_runs.h"

namespace ferry::views_test {
namespace {

struct CommandOutput {
    std::string out;
    std::string err;
    int status = -1;
};

/// Runs a shell command, its standard error to a file beside the capture.
CommandOutput run_command(const std::string& command, const std::filesystem::path& err_path) {
    CommandOutput result;
    FILE* pipe = popen(fmt::format("{} 2>'{}'", command, err_path.string()).c_str(), "r");
    if (pipe == nullptr)
        return result;
    std::array<char, 65536> buffer{};
    std::size_t n = 0;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
        result.out.append(buffer.data(), n);
    result.status = pclose(pipe);
    std::ifstream err(err_path);
    std::string line;
    while (std::getline(err, line)) {
        // tshark's note on running as root is about live capture, not the file.
        if (line.find("Running as user \"root\"") == std::string::npos)
            result.err += line + "\n";
    }
    return result;
}

std::string unhex(std::string_view hex) {
    std::string bytes;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        bytes.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    return bytes;
}

/// One followed stream: the client port (from "Node 0: ip:port") and each
/// direction's bytes (node 1's lines are indented by a tab).
struct Followed {
    std::uint64_t client_port = 0;
    std::array<std::string, 2> bytes;
};

Followed parse_follow(const std::string& text) {
    Followed followed;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("Node 0: ", 0) == 0) {
            followed.client_port = std::stoull(line.substr(line.rfind(':') + 1));
            continue;
        }
        if (line.empty() || line.find_first_not_of("0123456789abcdef\t") != std::string::npos)
            continue;
        const bool server = line[0] == '\t';
        followed.bytes[server ? 1 : 0] += unhex(server ? line.substr(1) : line);
    }
    return followed;
}

TEST(PcapTshark, ReadsEveryCaptureWithNoWarningAndFollowsEachStreamToTheBytesSent) {
    const auto dir = std::filesystem::temp_directory_path() / "ferry_views_tshark_test";
    std::filesystem::create_directories(dir);
    for (const ViewRunSpec& spec : view_runs()) {
        const RecordedRun run = record_run(spec);
        const auto path = dir / "run.pcap";
        std::ofstream(path, std::ios::binary) << views::pcap_of(*run.recording);
        const auto read =
            run_command(fmt::format("'{}' -r '{}'", FERRY_TSHARK, path.string()), dir / "err.txt");
        EXPECT_EQ(read.status, 0) << spec.name;
        EXPECT_EQ(read.err, "") << spec.name;
        const auto sent = bytes_sent(*run.recording);
        std::map<std::uint64_t, bool> conns;
        for (const auto& [end, bytes] : sent)
            conns[end.first] = true;
        ASSERT_FALSE(conns.empty()) << spec.name;
        for (std::size_t stream = 0; stream < conns.size(); ++stream) {
            const auto follow = run_command(fmt::format("'{}' -r '{}' -q -z follow,tcp,raw,{}",
                                                        FERRY_TSHARK, path.string(), stream),
                                            dir / "err.txt");
            EXPECT_EQ(follow.err, "") << spec.name;
            const Followed followed = parse_follow(follow.out);
            const std::uint64_t conn = followed.client_port - 49151;
            auto expected = [&](std::uint64_t side) {
                auto it = sent.find({conn, side});
                return it == sent.end() ? std::string() : it->second;
            };
            EXPECT_EQ(followed.bytes[0], expected(0)) << spec.name << ", conn " << conn;
            EXPECT_EQ(followed.bytes[1], expected(1)) << spec.name << ", conn " << conn;
        }
    }
    std::filesystem::remove_all(dir);
}

/// How many of the capture's frames tshark's TCP analysis flags with filter.
std::size_t flagged_frames(const std::filesystem::path& dir, const std::filesystem::path& path,
                           std::string_view filter) {
    const auto out = run_command(fmt::format("'{}' -r '{}' -Y '{}' -T fields -e frame.number",
                                             FERRY_TSHARK, path.string(), filter),
                                 dir / "err.txt");
    EXPECT_EQ(out.err, "") << filter;
    return static_cast<std::size_t>(std::count(out.out.begin(), out.out.end(), '\n'));
}

/// The real backend's capture of the chapter's upload: tshark reads it with
/// no warning, and follow-stream gives the client's 1000 bytes (sent in
/// partial sends) and the server's decimal reply, as the sockets carried them.
TEST(PcapTshark, ARealRunsCaptureFollowsToWhatCrossedTheSockets) {
    const auto dir = std::filesystem::temp_directory_path() / "ferry_views_tshark_real_test";
    std::filesystem::create_directories(dir);
    const ViewRunSpec upload{"real upload", "naive", 1000, 5, {{"partial_sends", "1/2"}}};
    sim::Recording recording;
    harness::RealDriverOptions options;
    options.recording = &recording;
    const harness::RunResult result =
        harness::run_on_real(workloads::builtin_workload("naive"), run_spec_of(upload), options);
    ASSERT_NE(result.end, harness::RunResult::End::deadlock);
    const auto path = dir / "real.pcap";
    std::ofstream(path, std::ios::binary) << views::pcap_of(recording);
    const auto read =
        run_command(fmt::format("'{}' -r '{}'", FERRY_TSHARK, path.string()), dir / "err.txt");
    EXPECT_EQ(read.status, 0);
    EXPECT_EQ(read.err, "");
    const auto follow =
        run_command(fmt::format("'{}' -r '{}' -q -z follow,tcp,raw,0", FERRY_TSHARK, path.string()),
                    dir / "err.txt");
    EXPECT_EQ(follow.err, "");
    const Followed followed = parse_follow(follow.out);
    const auto sent = bytes_sent(recording);
    EXPECT_EQ(followed.bytes[0].size(), 1000u);
    EXPECT_EQ(followed.bytes[0], sent.at({1, 0}));
    ASSERT_FALSE(followed.bytes[1].empty());
    EXPECT_EQ(followed.bytes[1], sent.at({1, 1}));
    EXPECT_EQ(followed.bytes[1].find_first_not_of("0123456789\n"), std::string::npos)
        << followed.bytes[1];
    EXPECT_GE(flagged_frames(dir, path, "tcp.flags.fin == 1"), 2u);  // both ends closed
    std::filesystem::remove_all(dir);
}

TEST(PcapTshark, AFullReceiveBufferIsAZeroWindowAndItsFirstReadAWindowUpdate) {
    const auto dir = std::filesystem::temp_directory_path() / "ferry_views_tshark_window_test";
    std::filesystem::create_directories(dir);
    const RecordedRun run = record_run(zero_window_run());
    const auto path = dir / "run.pcap";
    std::ofstream(path, std::ios::binary) << views::pcap_of(*run.recording);
    EXPECT_GE(flagged_frames(dir, path, "tcp.analysis.zero_window"), 1u);
    EXPECT_GE(flagged_frames(dir, path, "tcp.analysis.window_update"), 1u);
    // A run whose buffers never fill advertises no zero window.
    const RecordedRun calm = record_run(view_runs()[1]);
    std::ofstream(path, std::ios::binary) << views::pcap_of(*calm.recording);
    EXPECT_EQ(flagged_frames(dir, path, "tcp.analysis.zero_window"), 0u);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ferry::views_test
