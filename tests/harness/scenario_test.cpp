#include "harness/scenario.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ferry::harness {
namespace {

using ::testing::HasSubstr;

// The example from the scenario format's specification, verbatim.
constexpr std::string_view full_example = R"(
name = "naive server deadlocks on a payload of exactly one chunk"
protocol = "naive"            # "naive" | "ferry"
backends = ["sim", "real"]    # default ["sim"]
seeds = [1, 20]               # inclusive range; or: seed = 7 (default seed = 1)
chunk_size = 1024             # default 1024

[network]                     # every key optional; the default is a perfect network
max_send_bytes = 0            # 0 = no cap; otherwise each send takes at most this many bytes
partial_sends = false         # sends take a random non-empty prefix
short_reads = false           # recvs return a random non-empty prefix of what is buffered
latency_ms = [0, 0]           # one-way delay range per segment
stall = { side = "server", after_bytes = 512, for_ms = 2000 }   # no for_ms = for ever
reset = { side = "client", after_bytes = 700 }

[server]
files = { "old.txt" = "hello" }   # files present before the run
disk_bytes_max = 0                # 0 = unlimited; otherwise a full disk past this
timeout_ms = 30000                # idle timeout

[[client]]                    # clients run concurrently; each runs its steps in order
steps = [
  { put = "a.bin", size = 1024 },          # content generated from the seed
  { put = "b.txt", content = "hi" },
]

[expect]
outcome = "deadlock"          # "pass" | "deadlock" | "error" | "timeout"
files = { "a.bin" = { size = 1024 }, "b.txt" = { content = "hi" } }   # the server's files afterwards, exactly
)";

std::string error_of(std::string_view text) {
    try {
        parse_scenario(text, "s.toml");
    } catch (const ScenarioError& e) {
        return e.what();
    }
    ADD_FAILURE() << "no error for:\n" << text;
    return "";
}

TEST(ParseScenario, ReadsTheSpecificationExample) {
    const Scenario s = parse_scenario(full_example, "example.toml");
    EXPECT_EQ(s.name, "naive server deadlocks on a payload of exactly one chunk");
    EXPECT_EQ(s.protocol, ScenarioProtocol::naive);
    EXPECT_EQ(s.backends, (std::vector<Backend>{Backend::sim, Backend::real}));
    EXPECT_EQ(s.seed_first, 1u);
    EXPECT_EQ(s.seed_last, 20u);
    ASSERT_TRUE(s.network.stall);
    EXPECT_EQ(s.network.stall->side, Side::server);
    EXPECT_EQ(s.network.stall->after_bytes, 512u);
    EXPECT_EQ(s.network.stall->for_ms, 2000u);
    ASSERT_TRUE(s.network.reset);
    EXPECT_EQ(s.network.reset->after_bytes, 700u);
    EXPECT_EQ(s.server.files.at("old.txt"), "hello");
    ASSERT_EQ(s.clients.size(), 1u);
    ASSERT_EQ(s.clients[0].steps.size(), 2u);
    EXPECT_EQ(s.clients[0].steps[0].size, 1024u);
    EXPECT_EQ(s.clients[0].steps[1].content, "hi");
    EXPECT_EQ(s.expect.outcome, Outcome::deadlock);
    ASSERT_TRUE(s.expect.files);
    EXPECT_EQ(s.expect.files->at("a.bin").size, 1024u);
}

TEST(ParseScenario, DefaultsAreAPerfectNetworkOneSeedAndTheSimulator) {
    const Scenario s =
        parse_scenario("name = \"x\"\n[[client]]\nsteps = [{ dir = true }]\n", "s.toml");
    EXPECT_EQ(s.protocol, ScenarioProtocol::ferry);
    EXPECT_EQ(s.backends, std::vector<Backend>{Backend::sim});
    EXPECT_EQ(s.seed_first, 1u);
    EXPECT_EQ(s.seed_last, 1u);
    EXPECT_EQ(s.chunk_size, 1024u);
    EXPECT_FALSE(s.network.stall);
    EXPECT_EQ(s.expect.outcome, Outcome::pass);
    EXPECT_FALSE(s.expect.files);
}

TEST(ParseScenario, UnknownKeyIsAnErrorNamingItWithLineAndColumn) {
    const std::string error = error_of(
        "name = \"x\"\n[network]\nshort_read = true\n[[client]]\nsteps = [{ dir = true }]\n");
    EXPECT_THAT(error, HasSubstr("s.toml:3:1: unknown key \"short_read\" in [network]"));
}

TEST(ParseScenario, SyntaxErrorHasLineAndColumn) {
    EXPECT_THAT(error_of("name = \"x\nfoo"), HasSubstr("s.toml:1:"));
}

TEST(ParseScenario, ReportsBadValuesAtTheirPlace) {
    const std::string client = "\n[[client]]\nsteps = [{ dir = true }]\n";
    EXPECT_THAT(error_of("name = \"x\"\nprotocol = \"ftp\"" + client),
                HasSubstr("s.toml:2:12: \"protocol\" must be \"naive\" or \"ferry\""));
    EXPECT_THAT(error_of("name = \"x\"\nseeds = [5, 1]" + client),
                HasSubstr("5 is greater than 1"));
    EXPECT_THAT(error_of("name = \"x\"\nseed = 1\nseeds = [1, 2]" + client),
                HasSubstr("either \"seed\" or \"seeds\""));
    EXPECT_THAT(error_of("name = \"x\"\nchunk_size = -4" + client), HasSubstr("chunk_size"));
    EXPECT_THAT(error_of("name = \"x\"\nbackends = [\"cloud\"]" + client),
                HasSubstr("unknown backend \"cloud\""));
    EXPECT_THAT(error_of("name = \"x\"\n[expect]\noutcome = \"maybe\"" + client),
                HasSubstr("\"outcome\" must be"));
    EXPECT_THAT(error_of("name = \"x\"\n[expect]\nerror = 403" + client),
                HasSubstr("goes with outcome = \"error\""));
    EXPECT_THAT(error_of("name = \"x\"\n[network]\nstall = { side = \"middle\" }" + client),
                HasSubstr("\"client\" or \"server\""));
}

TEST(ParseScenario, StepsMustBeWellFormed) {
    EXPECT_THAT(error_of("name = \"x\"\n[[client]]\nsteps = [{ put = \"a\" }]"),
                HasSubstr("exactly one of size or content"));
    EXPECT_THAT(
        error_of("name = \"x\"\n[[client]]\nsteps = [{ put = \"a\", get = \"b\", size = 1 }]"),
        HasSubstr("exactly one of put, get or dir"));
    EXPECT_THAT(
        error_of("name = \"x\"\nprotocol = \"naive\"\n[[client]]\nsteps = [{ get = \"a\" }]"),
        HasSubstr("naive protocol can only put"));
    EXPECT_THAT(error_of("name = \"x\"\n[[client]]\nsteps = [{ dir = true, colour = 1 }]"),
                HasSubstr("unknown key \"colour\" in a step"));
}

TEST(ParseScenario, NeedsANameAndAClient) {
    EXPECT_THAT(error_of("[[client]]\nsteps = [{ dir = true }]"),
                HasSubstr("missing key \"name\""));
    EXPECT_THAT(error_of("name = \"x\""), HasSubstr("missing [[client]]"));
}

TEST(ParseScenario, PreloadedServerFilesMustHaveValidNames) {
    EXPECT_THAT(error_of("name = \"x\"\n[server]\nfiles = { \"../x\" = \"a\" }\n[[client]]\nsteps "
                         "= [{ dir = true }]"),
                HasSubstr("not a valid ferry name"));
}

TEST(ParseScenario, TraversalNamesAreAllowedInStepsSoScenariosCanTestRefusal) {
    const Scenario s = parse_scenario(
        "name = \"x\"\n[[client]]\nsteps = [{ put = \"../etc/passwd\", content = \"x\" }]",
        "s.toml");
    EXPECT_EQ(s.clients[0].steps[0].name, "../etc/passwd");
}

}  // namespace
}  // namespace ferry::harness
