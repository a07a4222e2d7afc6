// --results files (harness/explore_results.h): what a shard wrote reads back
// the same, files from before a field was recorded still read, and a merge
// says when a shard was interrupted.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ferry/harness/explore_results.h"

namespace ferry::harness {
namespace {

ExploreResults shard(std::uint64_t index, std::uint64_t runs, bool interrupted) {
    ExploreResults r;
    r.exploration = "ferry explore --workload kv --seed 1 --runs 100";
    r.workload = "kv";
    r.keep_going = true;
    r.shard_index = index;
    r.shard_count = 2;
    r.runs = runs;
    r.events = runs * 10;
    r.seconds = 0.5;
    r.cpu_seconds = 0.5;
    r.interrupted = interrupted;
    return r;
}

TEST(ExploreResults, ReadBackAsWrittenInterruptedOrNot) {
    for (const bool interrupted : {false, true}) {
        std::string error;
        const auto read = parse_results_json(results_json(shard(1, 37, interrupted)), &error);
        ASSERT_TRUE(read) << error;
        EXPECT_EQ(read->runs, 37u);
        EXPECT_EQ(read->shard_index, 1u);
        EXPECT_EQ(read->interrupted, interrupted);
    }
}

TEST(ExploreResults, AFileWithoutTheInterruptedFieldReadsAsNotInterrupted) {
    std::string text = results_json(shard(0, 50, true));
    const std::string field = "\"interrupted\": true,";
    const std::size_t at = text.find(field);
    ASSERT_NE(at, std::string::npos) << text;
    text.erase(at, field.size());
    std::string error;
    const auto read = parse_results_json(text, &error);
    ASSERT_TRUE(read) << error;
    EXPECT_FALSE(read->interrupted);
}

TEST(ExploreResults, AMergeIsInterruptedWhenAnyShardWas) {
    std::string error;
    const auto calm = merge_results({shard(0, 50, false), shard(1, 50, false)}, &error);
    ASSERT_TRUE(calm) << error;
    EXPECT_FALSE(calm->interrupted);
    EXPECT_EQ(calm->runs, 100u);
    const auto stopped = merge_results({shard(0, 50, false), shard(1, 12, true)}, &error);
    ASSERT_TRUE(stopped) << error;
    EXPECT_TRUE(stopped->interrupted);
    EXPECT_EQ(stopped->runs, 62u);
}

}  // namespace
}  // namespace ferry::harness
