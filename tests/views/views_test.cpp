// The views of a recorded run (views/): the same seed draws byte-identical
// files, recording leaves the run and its digest as they were, the Perfetto
// JSON follows the trace-event format with slices that nest and never run
// backwards, the pcap's frames carry correct checksums and exactly the bytes
// sent, and the sequence diagram of the chapter's deadlock has its lanes,
// arrow and red wait-for cycle, and a long transfer folds.

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ferry/views/pcap.h"
#include "ferry/views/perfetto.h"
#include "ferry/views/sequence_svg.h"
#include "ferry/views/tcp_frame.h"
#include "tests/views/view_runs.h"

namespace ferry::views_test {
namespace {

std::size_t count_of(const std::string& text, std::string_view needle) {
    std::size_t count = 0;
    for (std::size_t at = text.find(needle); at != std::string::npos;
         at = text.find(needle, at + 1))
        ++count;
    return count;
}

TEST(Views, SameSeedGivesByteIdenticalFiles) {
    for (const ViewRunSpec& spec : view_runs()) {
        const RecordedRun first = record_run(spec);
        const RecordedRun second = record_run(spec);
        EXPECT_EQ(views::sequence_svg_of(*first.recording),
                  views::sequence_svg_of(*second.recording))
            << spec.name;
        EXPECT_EQ(views::pcap_of(*first.recording), views::pcap_of(*second.recording)) << spec.name;
        EXPECT_EQ(views::perfetto_json_of(*first.recording),
                  views::perfetto_json_of(*second.recording))
            << spec.name;
    }
}

TEST(Views, RecordingChangesNeitherTheRunNorItsDigest) {
    for (const ViewRunSpec& spec : view_runs()) {
        const RecordedRun recorded = record_run(spec);
        const harness::RunResult plain =
            harness::run_on_sim(workloads::builtin_workload(spec.workload), run_spec_of(spec));
        EXPECT_EQ(recorded.result.digest, plain.digest) << spec.name;
        EXPECT_EQ(recorded.result.events, plain.events) << spec.name;
        EXPECT_EQ(recorded.recording->events().size(), plain.events) << spec.name;
    }
}

/// Checks one track's complete events: they nest, and none runs backwards.
void expect_slices_nest(const std::vector<std::pair<double, double>>& slices) {
    std::vector<double> open_ends;  // a stack of the enclosing slices' ends
    for (const auto& [start, end] : slices) {
        ASSERT_LE(start, end);
        while (!open_ends.empty() && open_ends.back() <= start)
            open_ends.pop_back();
        if (!open_ends.empty()) {
            ASSERT_LE(end, open_ends.back()) << "a slice from " << start << " overlaps its parent";
        }
        open_ends.push_back(end);
    }
}

TEST(Perfetto, FollowsTheTraceEventFormatAndSlicesNestWithoutRunningBackwards) {
    for (const ViewRunSpec& spec : view_runs()) {
        const RecordedRun run = record_run(spec);
        const auto json = nlohmann::json::parse(views::perfetto_json_of(*run.recording));
        ASSERT_TRUE(json.at("traceEvents").is_array()) << spec.name;
        std::map<std::uint64_t, std::vector<std::pair<double, double>>> slices_by_track;
        std::size_t slices = 0;
        for (const auto& event : json.at("traceEvents")) {
            const std::string phase = event.at("ph");
            ASSERT_TRUE(phase == "M" || phase == "X" || phase == "i" || phase == "C") << phase;
            ASSERT_TRUE(event.at("name").is_string());
            ASSERT_TRUE(event.at("pid").is_number_unsigned());
            if (phase == "M")
                continue;
            ASSERT_GE(event.at("ts").get<double>(), 0.0);
            if (phase != "X")
                continue;
            ++slices;
            const double start = event.at("ts");
            const double duration = event.at("dur");
            ASSERT_GE(duration, 0.0) << spec.name;
            slices_by_track[event.at("tid")].emplace_back(start, start + duration);
        }
        EXPECT_GT(slices, 0u) << spec.name;
        for (auto& [track, list] : slices_by_track) {
            std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
                return a.first != b.first ? a.first < b.first : a.second > b.second;
            });
            expect_slices_nest(list);
        }
    }
}

TEST(Perfetto, DeadlockedCallsNeverWakeAndInFlightNeverGoesNegative) {
    const RecordedRun run = record_run(view_runs()[0]);
    const auto json = nlohmann::json::parse(views::perfetto_json_of(*run.recording));
    std::size_t never_woke = 0;
    bool deadlock_marked = false;
    for (const auto& event : json.at("traceEvents")) {
        if (event.at("ph") == "X" && event.at("args").contains("woke"))
            ++never_woke;
        if (event.at("ph") == "i" && event.at("name") == "deadlock")
            deadlock_marked = true;
        if (event.at("ph") == "C") {
            for (const auto& [key, value] : event.at("args").items())
                EXPECT_GE(value.get<std::int64_t>(), 0) << key;
        }
    }
    EXPECT_EQ(never_woke, 3u);  // the accept loop and both ends' recv
    EXPECT_TRUE(deadlock_marked);
}

/// The RFC 1071 checksum, sixteen bits at a time: what the faster one must equal.
std::uint16_t checksum_by_halfwords(std::span<const std::byte> bytes) {
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < bytes.size(); i += 2) {
        sum += std::to_integer<std::uint32_t>(bytes[i]) << 8;
        if (i + 1 < bytes.size())
            sum += std::to_integer<std::uint32_t>(bytes[i + 1]);
    }
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum & 0xffff);
}

TEST(TcpFrame, InternetChecksumMatchesRfc1071AtEveryLength) {
    // RFC 1071's example: the words 0001 f203 f4f5 f6f7 sum to ddf2.
    const std::array<std::byte, 8> example{std::byte{0x00}, std::byte{0x01}, std::byte{0xf2},
                                           std::byte{0x03}, std::byte{0xf4}, std::byte{0xf5},
                                           std::byte{0xf6}, std::byte{0xf7}};
    EXPECT_EQ(views::internet_checksum(example), 0xffff - 0xddf2);
    std::vector<std::byte> bytes(300);
    for (std::size_t i = 0; i < bytes.size(); ++i)
        bytes[i] = std::byte{static_cast<unsigned char>(i * 151 + 7)};
    for (std::size_t length = 0; length <= bytes.size(); ++length) {
        const std::span<const std::byte> prefix(bytes.data(), length);
        EXPECT_EQ(views::internet_checksum(prefix), checksum_by_halfwords(prefix)) << length;
    }
}

std::uint32_t le32(const std::string& bytes, std::size_t at) {
    std::uint32_t value = 0;
    std::memcpy(&value, bytes.data() + at, 4);
    return value;
}

TEST(Pcap, FramesHaveCorrectChecksumsAndCarryExactlyTheBytesSent) {
    for (const ViewRunSpec& spec : view_runs()) {
        const RecordedRun run = record_run(spec);
        const std::string pcap = views::pcap_of(*run.recording);
        ASSERT_EQ(le32(pcap, 0), 0xa1b23c4du);
        ASSERT_EQ(le32(pcap, 20), 1u);  // Ethernet
        std::size_t payload_bytes = 0;
        for (std::size_t at = 24; at < pcap.size();) {
            const std::uint32_t length = le32(pcap, at + 8);
            const auto* frame = reinterpret_cast<const std::byte*>(pcap.data() + at + 16);
            const std::span<const std::byte> ip(frame + 14, 20);
            EXPECT_EQ(views::internet_checksum(ip), 0) << spec.name;  // a correct sum checks to 0
            const std::size_t tcp_length = length - 14 - 20;
            std::uint32_t pseudo = 0;
            for (std::size_t i = 12; i < 20; i += 2)
                pseudo += std::to_integer<std::uint32_t>(ip[i]) << 8 |
                          std::to_integer<std::uint32_t>(ip[i + 1]);
            pseudo += 6 + static_cast<std::uint32_t>(tcp_length);
            EXPECT_EQ(views::internet_checksum({frame + 34, tcp_length}, pseudo), 0) << spec.name;
            payload_bytes += tcp_length - 20;
            at += 16 + length;
        }
        std::size_t bytes_sent = 0;
        for (std::size_t k = 0; k < run.recording->segment_count(); ++k)
            bytes_sent += run.recording->segment_payload(k).size();
        EXPECT_EQ(payload_bytes, bytes_sent) << spec.name;
    }
}

TEST(SequenceSvg, TheChaptersDeadlockHasItsLanesArrowAndRedCycle) {
    const RecordedRun run = record_run(view_runs()[0]);
    const std::string svg = views::sequence_svg_of(*run.recording);
    EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
    EXPECT_EQ(count_of(svg, "<script"), 0u);
    EXPECT_EQ(count_of(svg, "class=\"head\""), 3u);  // server, client 1, server conn 1
    EXPECT_NE(svg.find(">client 1</text>"), std::string::npos);
    EXPECT_NE(svg.find(">server conn 1</text>"), std::string::npos);
    EXPECT_EQ(count_of(svg, "class=\"arrow\""), 1u);  // the 1024 bytes
    EXPECT_NE(svg.find(">1024 B</text>"), std::string::npos);
    EXPECT_EQ(count_of(svg, "class=\"cycle\""), 2u);  // each waits on the other
    EXPECT_NE(svg.find("recv(conn 1) waits on server conn 1"), std::string::npos);
    EXPECT_NE(svg.find("recv(conn 1) waits on client 1"), std::string::npos);
    EXPECT_GE(count_of(svg, "class=\"blocked\""), 3u);
}

TEST(SequenceSvg, MarksPartialSendsShortReadsAndFaults) {
    const RecordedRun partial = record_run(view_runs()[1]);
    const std::string svg = views::sequence_svg_of(*partial.recording);
    EXPECT_NE(svg.find(" partial</text>"), std::string::npos);
    EXPECT_NE(svg.find(" short</text>"), std::string::npos);
    const RecordedRun reset = record_run(view_runs()[2]);
    EXPECT_NE(views::sequence_svg_of(*reset.recording).find("fault: reset"), std::string::npos);
}

TEST(SequenceSvg, ALongTransferFoldsIntoAFewBoxes) {
    const RecordedRun run = record_run({"8 MiB", "ferry", 8u << 20, 1, {{"short_reads", "1/4"}}});
    const std::string svg = views::sequence_svg_of(*run.recording);
    EXPECT_NE(svg.find("steps folded"), std::string::npos);
    EXPECT_LT(svg.size(), 200'000u);
}

}  // namespace
}  // namespace ferry::views_test
