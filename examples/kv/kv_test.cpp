// kv/1 under ferry's simulator, with ferry's GoogleTest integration: every
// seed of a network that cuts every send and read short, each run twice to
// check it is deterministic. KvFixed is the protocol as written; KvBuggy is
// the same with its two slips, and fails with the line that replays it.

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "ferry/testing/sim_test.h"
#include "ferry/testing/spawn_pair.h"
#include "kv_protocol.h"

namespace {

ferry::testing::SimTest short_cuts_everywhere() {
    ferry::testing::SimTest test;
    test.options.faults.partial_sends = ferry::sim::always;
    test.options.faults.short_reads = ferry::sim::always;
    test.options.faults.latency_ms_max = 20;
    return test;
}

const std::string sentence = "the quick brown fox jumps over the lazy dog";

/// A client sets an empty value and a sentence, then reads both back.
void set_then_get(kv::Slips slips) {
    short_cuts_everywhere().run([slips](ferry::testing::SeedRun& run) {
        kv::KvStore store;
        std::optional<std::string> empty;
        std::optional<std::string> sentence_read;
        ferry::testing::spawn_pair(
            run.sim(),
            [&](ferry::Connection& conn) { kv::serve_kv_connection(conn, store, slips); },
            [&](ferry::Connection& conn) {
                kv::KvClient client(conn, slips);
                client.set("a", "");
                client.set("b", sentence);
                empty = client.get("a");
                sentence_read = client.get("b");
            });
        run.finish();
        EXPECT_EQ(empty.value_or("(none)"), "");
        EXPECT_EQ(sentence_read.value_or("(none)"), sentence);
    });
}

TEST(KvFixed, SetThenGetReturnsEveryValueOnEverySeed) {
    set_then_get({});
}

TEST(KvBuggy, SetThenGetReturnsEveryValueOnEverySeed) {
    set_then_get({.value_loop_reads_once = true, .length_from_one_recv = true});
}

}  // namespace
