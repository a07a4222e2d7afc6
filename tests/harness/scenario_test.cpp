#include "ferry/harness/scenario.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "ferry/harness/fault_plan.h"
#include "ferry/workloads/builtin.h"

namespace ferry::harness {
namespace {

using ::testing::HasSubstr;

// The complete example of the scenario format's specification
// (docs/scenarios.md), verbatim.
constexpr std::string_view full_example = R"toml(
name = "ferry/1: a full disk answers ERR 507 and leaves no part of the upload"
workload = "ferry"            # ferry, naive, kv, kv-buggy (`ferry workloads`); default "ferry"
backends = ["sim", "real"]    # default ["sim"]
seeds = [1, 20]               # inclusive range; or: seed = 7 (default seed = 1)
time_budget_ms = 120000       # default 600000

[faults]                      # the fault plan: any knob of docs/faults.md; default a calm network
partial_sends = "1/2"         # a ratio, or true (always)
short_reads = true
latency = [0, 5]              # ms, per segment
disk_full = 3000              # bytes the server's disk holds
reset = { side = "client", after_bytes = 700 }

[ferry]                       # the workload's settings, in a table named after it
chunk_size = 1024
files = { "old.txt" = "already here" }   # files present before the run
max_bytes = 100000

[[client]]                    # clients run concurrently; each runs its steps in order
timeout_ms = 30000            # the workload's client options
steps = [
  { put = "a.bin", size = 5000 },          # content generated from the seed
  { put = "b.txt", content = "hi" },
  { get = "a.bin" },                       # checked against the model
  { dir = true },
  { get = "nope", expect_error = 404 },    # this step must get ERR 404
]

[expect]
outcome = "error"             # "pass" | "deadlock" | "error" | "timeout" | "allowed"
error = 507                   # with outcome = "error": the ERR code a client must see
files = { "old.txt" = { content = "already here" } }   # the server's files afterwards, exactly
)toml";

// The specification's saved failure, verbatim: one recorded schedule.
constexpr std::string_view saved_failure_example = R"toml(
name = "explore: wrong data (truncated file)"
workload = "naive"
seed = 1315361123233219194
choices = [0, 3, 1]           # the recorded schedule; past its end every choice is calm
[faults]
stall = { side = "server", after_bytes = 1 }
[[client]]
steps = [{ put = "upload.bin", size = 2 }]
[expect]
outcome = "allowed"
)toml";

// The older format's specification example (protocol =, [network], [server],
// a top-level chunk_size), which is still read. The older example named the
// naive protocol; its [server] files are a ferry setting, so it runs ferry.
constexpr std::string_view older_example = R"toml(
name = "the older format"
protocol = "ferry"            # "naive" | "ferry"
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
)toml";

const WorkloadRegistry& registry() {
    return workloads::builtin_workloads();
}

Scenario parse(std::string_view text, const std::filesystem::path& path = "s.toml") {
    return parse_scenario(text, path, registry());
}

std::string error_of(std::string_view text) {
    try {
        parse(text);
    } catch (const ScenarioError& e) {
        return e.what();
    }
    ADD_FAILURE() << "no error for:\n" << text;
    return "";
}

std::string text_of(const Params& params, std::string_view key) {
    return text_param(params, key, "<none>");
}

std::uint64_t count_of(const Params& params, std::string_view key) {
    return count_param(params, key, 999'999'999);
}

void expect_example_faults(const FaultPlan& f) {
    EXPECT_EQ(f.network.partial_sends, (sim::Ratio{1, 2}));
    EXPECT_EQ(f.network.short_reads, sim::always);
    EXPECT_EQ(f.network.latency_ms_min, 0u);
    EXPECT_EQ(f.network.latency_ms_max, 5u);
    EXPECT_EQ(f.disk.capacity_bytes, 3000u);
    ASSERT_TRUE(f.network.reset);
    EXPECT_EQ(f.network.reset->side, sim::Side::client);
    EXPECT_EQ(f.network.reset->after_bytes, 700u);
    EXPECT_FALSE(f.network.stall);
    EXPECT_EQ(fault_plan_words(f).size(), 5u) << fault_plan_text(f);
}

void expect_example_steps(const ClientPlan& c) {
    EXPECT_EQ(count_of(c.options, "timeout_ms"), 30000u);
    ASSERT_EQ(c.ops.size(), 5u);
    EXPECT_EQ(c.ops[0].verb, "put");
    EXPECT_EQ(text_of(c.ops[0].params, "name"), "a.bin");
    EXPECT_EQ(c.ops[0].params.front().key, "name") << "the primary parameter comes first";
    EXPECT_EQ(count_of(c.ops[0].params, "size"), 5000u);
    EXPECT_EQ(c.ops[0].line, 23) << "where the file has it, for messages";
    EXPECT_EQ(text_of(c.ops[1].params, "content"), "hi");
    EXPECT_EQ(c.ops[2].verb, "get");
    EXPECT_EQ(c.ops[3].verb, "dir");
    EXPECT_TRUE(c.ops[3].params.empty());
    EXPECT_EQ(c.ops[4].verb, "get");
    EXPECT_EQ(text_of(c.ops[4].params, "name"), "nope");
    EXPECT_EQ(count_of(c.ops[4].params, "expect_error"), 404u);
}

TEST(ParseScenario, ReadsTheSpecificationExample) {
    const Scenario s = parse(full_example, "example.toml");
    EXPECT_EQ(s.path, "example.toml");
    EXPECT_EQ(s.name, "ferry/1: a full disk answers ERR 507 and leaves no part of the upload");
    EXPECT_EQ(s.run.workload, "ferry");
    EXPECT_EQ(s.backends, (std::vector<Backend>{Backend::sim, Backend::real}));
    EXPECT_EQ(s.seed_first, 1u);
    EXPECT_EQ(s.seed_last, 20u);
    EXPECT_EQ(s.run.seed, 1u) << "the run's seed is the first of the range";
    EXPECT_FALSE(s.run.choices);
    EXPECT_EQ(s.run.time_budget, std::chrono::milliseconds(120000));
    expect_example_faults(s.run.faults);
    EXPECT_EQ(count_of(s.run.work.settings, "chunk_size"), 1024u);
    EXPECT_EQ(count_of(s.run.work.settings, "max_bytes"), 100000u);
    ASSERT_NE(table_param(s.run.work.settings, "files"), nullptr);
    EXPECT_EQ(*table_param(s.run.work.settings, "files"), (TextTable{{"old.txt", "already here"}}));
    ASSERT_EQ(s.run.work.clients.size(), 1u);
    expect_example_steps(s.run.work.clients[0]);
    EXPECT_EQ(check_case(s.run.work, registry().find("ferry")->schema()), std::nullopt);
    EXPECT_EQ(s.expect.outcome, Outcome::error);
    EXPECT_EQ(s.expect.error, 507);
    ASSERT_TRUE(s.expect.files);
    ASSERT_EQ(s.expect.files->size(), 1u);
    EXPECT_EQ(s.expect.files->at("old.txt").content, "already here");
    EXPECT_FALSE(s.expect.files->at("old.txt").size);
}

TEST(ParseScenario, ReadsTheSpecificationsSavedFailure) {
    const Scenario s = parse(saved_failure_example);
    EXPECT_EQ(s.run.workload, "naive");
    EXPECT_EQ(s.seed_first, 1315361123233219194u);
    EXPECT_EQ(s.seed_last, 1315361123233219194u);
    EXPECT_EQ(s.run.seed, 1315361123233219194u);
    EXPECT_EQ(s.run.choices, (std::vector<std::uint64_t>{0, 3, 1}));
    ASSERT_TRUE(s.run.faults.network.stall);
    EXPECT_EQ(s.run.faults.network.stall->side, sim::Side::server);
    EXPECT_EQ(s.run.faults.network.stall->after_bytes, 1u);
    EXPECT_FALSE(s.run.faults.network.stall->duration) << "no for_ms: for ever";
    EXPECT_EQ(active_knobs(s.run.faults), active_knobs([] {
                  FaultPlan p;
                  p.network.stall = sim::StallFault{};
                  return p;
              }()));
    ASSERT_EQ(s.run.work.clients.size(), 1u);
    ASSERT_EQ(s.run.work.clients[0].ops.size(), 1u);
    EXPECT_EQ(count_of(s.run.work.clients[0].ops[0].params, "size"), 2u);
    EXPECT_EQ(s.expect.outcome, Outcome::allowed);
}

TEST(ParseScenario, ReadsTheOlderFormat) {
    const Scenario s = parse(older_example);
    EXPECT_EQ(s.run.workload, "ferry");
    EXPECT_EQ(s.backends, (std::vector<Backend>{Backend::sim, Backend::real}));
    EXPECT_EQ(s.seed_first, 1u);
    EXPECT_EQ(s.seed_last, 20u);
    EXPECT_EQ(count_of(s.run.work.settings, "chunk_size"), 1024u);
    const sim::NetworkFaults& n = s.run.faults.network;
    EXPECT_EQ(n.max_send_bytes, 0u);
    EXPECT_EQ(n.partial_sends, sim::never);
    EXPECT_EQ(n.short_reads, sim::never);
    EXPECT_EQ(n.latency_ms_min, 0u);
    EXPECT_EQ(n.latency_ms_max, 0u);
    ASSERT_TRUE(n.stall);
    EXPECT_EQ(n.stall->side, sim::Side::server);
    EXPECT_EQ(n.stall->after_bytes, 512u);
    EXPECT_EQ(n.stall->duration, std::chrono::milliseconds(2000));
    ASSERT_TRUE(n.reset);
    EXPECT_EQ(n.reset->side, sim::Side::client);
    EXPECT_EQ(n.reset->after_bytes, 700u);
    EXPECT_EQ(s.run.faults.disk.capacity_bytes, 0u) << "disk_bytes_max = 0: unlimited";
    // [server]: files and timeout_ms are the ferry workload's settings.
    ASSERT_NE(table_param(s.run.work.settings, "files"), nullptr);
    EXPECT_EQ(*table_param(s.run.work.settings, "files"), (TextTable{{"old.txt", "hello"}}));
    EXPECT_EQ(count_of(s.run.work.settings, "idle_timeout_ms"), 30000u);
    ASSERT_EQ(s.run.work.clients.size(), 1u);
    ASSERT_EQ(s.run.work.clients[0].ops.size(), 2u);
    EXPECT_EQ(count_of(s.run.work.clients[0].ops[0].params, "size"), 1024u);
    EXPECT_EQ(text_of(s.run.work.clients[0].ops[1].params, "content"), "hi");
    EXPECT_EQ(s.expect.outcome, Outcome::deadlock);
    ASSERT_TRUE(s.expect.files);
    EXPECT_EQ(s.expect.files->at("a.bin").size, 1024u);
    EXPECT_EQ(s.expect.files->at("b.txt").content, "hi");
}

TEST(ParseScenario, OlderServerTableNeedsAWorkloadWithThoseSettings) {
    // The older example verbatim: the naive workload has no preloaded files.
    std::string text(older_example);
    text.replace(text.find("\"ferry\""), 7, "\"naive\"");
    EXPECT_THAT(error_of(text), HasSubstr("s.toml:17:1: workload naive has no files"));
    std::string disk_only(older_example);
    disk_only.replace(disk_only.find("\"ferry\""), 7, "\"naive\"");
    disk_only.erase(disk_only.find("files = { \"old"),
                    disk_only.find("disk_bytes_max") - disk_only.find("files = { \"old"));
    disk_only.erase(disk_only.find("timeout_ms = 30000"), 18);
    EXPECT_EQ(parse(disk_only).run.workload, "naive") << disk_only;
}

TEST(ParseScenario, DefaultsAreAPerfectNetworkOneSeedAndTheSimulator) {
    const Scenario s = parse("name = \"x\"\n[[client]]\nsteps = [{ dir = true }]\n");
    EXPECT_EQ(s.run.workload, "ferry");
    EXPECT_EQ(s.backends, std::vector<Backend>{Backend::sim});
    EXPECT_EQ(s.seed_first, 1u);
    EXPECT_EQ(s.seed_last, 1u);
    EXPECT_EQ(s.run.seed, 1u);
    EXPECT_FALSE(s.run.choices);
    EXPECT_EQ(s.run.time_budget, default_time_budget);
    // No settings: the workload's own defaults (a chunk of 1024) apply.
    EXPECT_TRUE(s.run.work.settings.empty());
    EXPECT_TRUE(is_calm(s.run.faults));
    EXPECT_EQ(active_knobs(s.run.faults), KnobSet{0});
    EXPECT_FALSE(s.run.faults.network.stall);
    EXPECT_EQ(s.expect.outcome, Outcome::pass);
    EXPECT_FALSE(s.expect.error);
    EXPECT_FALSE(s.expect.files);
}

TEST(ParseScenario, UnknownKeyIsAnErrorNamingItWithLineAndColumn) {
    const std::string client = "\n[[client]]\nsteps = [{ dir = true }]\n";
    EXPECT_THAT(error_of("name = \"x\"\n[network]\nshort_read = true" + client),
                HasSubstr("s.toml:3:1: unknown fault \"short_read\""));
    EXPECT_THAT(error_of("name = \"x\"\n[faults]\nshort_read = true" + client),
                HasSubstr("s.toml:3:1: unknown fault \"short_read\""));
    EXPECT_THAT(error_of("name = \"x\"\ncolour = 1" + client),
                HasSubstr("s.toml:2:1: unknown key \"colour\" in the scenario"));
    EXPECT_THAT(error_of("name = \"x\"\n[ferry]\nchunk = 1" + client),
                HasSubstr("s.toml:3:1: unknown key \"chunk\" in [ferry]"));
    EXPECT_THAT(error_of("name = \"x\"\n[server]\nfile = 1" + client),
                HasSubstr("s.toml:3:1: unknown key \"file\" in [server]"));
    EXPECT_THAT(error_of("name = \"x\"\n[expect]\nresult = \"pass\"" + client),
                HasSubstr("s.toml:3:1: unknown key \"result\" in [expect]"));
    EXPECT_THAT(error_of("name = \"x\"\n[[client]]\ncolour = 1\nsteps = [{ dir = true }]"),
                HasSubstr("s.toml:3:1: unknown key \"colour\" in [[client]]"));
}

TEST(ParseScenario, SyntaxErrorHasLineAndColumn) {
    EXPECT_THAT(error_of("name = \"x\nfoo"), HasSubstr("s.toml:1:"));
}

TEST(ParseScenario, ReportsBadValuesAtTheirPlace) {
    const std::string client = "\n[[client]]\nsteps = [{ dir = true }]\n";
    EXPECT_THAT(error_of("name = \"x\"\nprotocol = \"ftp\"" + client),
                HasSubstr("s.toml:2:12: unknown workload \"ftp\" (known: ferry, naive"));
    EXPECT_THAT(error_of("name = \"x\"\nworkload = \"ftp\"" + client),
                HasSubstr("s.toml:2:12: unknown workload \"ftp\""));
    EXPECT_THAT(error_of("name = \"x\"\nworkload = \"ferry\"\nprotocol = \"ferry\"" + client),
                HasSubstr("either \"workload\" or \"protocol\""));
    EXPECT_THAT(error_of("name = \"x\"\nseeds = [5, 1]" + client),
                HasSubstr("s.toml:2:9: \"seeds\": 5 is greater than 1"));
    EXPECT_THAT(error_of("name = \"x\"\nseed = 1\nseeds = [1, 2]" + client),
                HasSubstr("either \"seed\" or \"seeds\""));
    EXPECT_THAT(error_of("name = \"x\"\nseeds = [1, 2]\nchoices = [0, 1]" + client),
                HasSubstr("s.toml:3:11: \"choices\" replay one run"));
    EXPECT_THAT(error_of("name = \"x\"\nchunk_size = -4" + client),
                HasSubstr("s.toml:2:14: \"chunk_size\""));
    EXPECT_THAT(error_of("name = \"x\"\nchunk_size = 0" + client),
                HasSubstr("\"chunk_size\" must be at least 1"));
    EXPECT_THAT(error_of("name = \"x\"\ntime_budget_ms = 0" + client),
                HasSubstr("\"time_budget_ms\" must be at least 1"));
    EXPECT_THAT(error_of("name = \"x\"\nbackends = [\"cloud\"]" + client),
                HasSubstr("s.toml:2:13: unknown backend \"cloud\""));
    EXPECT_THAT(error_of("name = \"x\"\n[expect]\noutcome = \"maybe\"" + client),
                HasSubstr("s.toml:3:11: \"outcome\" must be"));
    EXPECT_THAT(error_of("name = \"x\"\n[expect]\nerror = 403" + client),
                HasSubstr("s.toml:3:9: \"error\" goes with outcome = \"error\""));
    EXPECT_THAT(error_of("name = \"x\"\n[expect]\noutcome = \"error\"\nerror = 42" + client),
                HasSubstr("\"error\" must be an ERR code"));
    EXPECT_THAT(error_of("name = \"x\"\n[network]\nstall = { side = \"middle\" }" + client),
                HasSubstr("\"client\" or \"server\""));
    EXPECT_THAT(error_of("name = \"x\"\n[faults]\nshort_reads = \"3/2\"" + client),
                HasSubstr("s.toml:3:15: \"short_reads\" must be a ratio"));
    EXPECT_THAT(error_of("name = \"x\"\n[ferry]\nchunk_size = true" + client),
                HasSubstr("s.toml:3:14: \"chunk_size\" must be a whole number"));
    EXPECT_THAT(error_of("name = \"x\"\n[[client]]\ntimeout_ms = 0\nsteps = [{ dir = true }]"),
                HasSubstr("s.toml:3:14: \"timeout_ms\" must be at least 1"));
}

TEST(ParseScenario, StepsMustBeWellFormed) {
    EXPECT_THAT(
        error_of("name = \"x\"\n[[client]]\nsteps = [{ put = \"a\", get = \"b\", size = 1 }]"),
        HasSubstr("s.toml:3:10: a step has one operation, not both"));
    EXPECT_THAT(error_of("name = \"x\"\n[[client]]\nsteps = [{ size = 1 }]"),
                HasSubstr("a step needs one operation of ferry: put, get, dir, raw"));
    // The naive workload's only operation is put: the chapter has no get or dir.
    EXPECT_THAT(
        error_of("name = \"x\"\nprotocol = \"naive\"\n[[client]]\nsteps = [{ get = \"a\" }]"),
        HasSubstr("s.toml:4:10: a step needs one operation of naive: put"));
    EXPECT_THAT(error_of("name = \"x\"\n[[client]]\nsteps = [{ dir = true, colour = 1 }]"),
                HasSubstr("unknown key \"colour\" in a dir step"));
    EXPECT_THAT(error_of("name = \"x\"\n[[client]]\nsteps = [{ get = \"a\", size = 1 }]"),
                HasSubstr("unknown key \"size\" in a get step"));
    EXPECT_THAT(error_of("name = \"x\"\n[[client]]\nsteps = [{ dir = false }]"),
                HasSubstr("write the step as { dir = true }"));
    EXPECT_THAT(error_of("name = \"x\"\n[[client]]\nsteps = [{ put = \"a\", size = \"big\" }]"),
                HasSubstr("\"size\" must be a whole number"));
    EXPECT_THAT(error_of("name = \"x\"\n[[client]]\nsteps = []"),
                HasSubstr("\"steps\" must be a non-empty list"));
    EXPECT_THAT(error_of("name = \"x\"\n[[client]]\ntimeout_ms = 5"),
                HasSubstr("a [[client]] needs \"steps\""));
}

// A put says what it sends once, and an expected error is one the protocol
// has: the workload's schema says so, and every reader checks it.
TEST(ParseScenario, PutStepsNeedExactlyOneOfSizeOrContent) {
    EXPECT_THAT(error_of("name = \"x\"\n[[client]]\nsteps = [{ put = \"a\" }]"),
                HasSubstr("exactly one of size or content"));
    EXPECT_THAT(
        error_of("name = \"x\"\n[[client]]\nsteps = [{ put = \"a\", size = 2, content = \"b\" }]"),
        HasSubstr("exactly one of size or content"));
    EXPECT_THAT(error_of("name = \"x\"\n[[client]]\nsteps = [{ get = \"a\", expect_error = 42 }]"),
                HasSubstr("\"expect_error\" must be an ERR code"));
}

TEST(ParseScenario, NeedsANameAndAClient) {
    EXPECT_THAT(error_of("[[client]]\nsteps = [{ dir = true }]"),
                HasSubstr("missing key \"name\""));
    EXPECT_THAT(error_of("name = \"\"\n[[client]]\nsteps = [{ dir = true }]"),
                HasSubstr("\"name\" must not be empty"));
    EXPECT_THAT(error_of("name = \"x\""), HasSubstr("missing [[client]]"));
}

// A preloaded file the store could never hold is a bad scenario file, not a
// run that throws while it starts.
TEST(ParseScenario, PreloadedServerFilesMustHaveValidNames) {
    EXPECT_THAT(error_of("name = \"x\"\n[server]\nfiles = { \"../x\" = \"a\" }\n[[client]]\nsteps "
                         "= [{ dir = true }]"),
                HasSubstr("not a valid ferry name"));
    EXPECT_THAT(error_of("name = \"x\"\n[ferry]\nfiles = { \"../x\" = \"a\" }\n[[client]]\nsteps "
                         "= [{ dir = true }]"),
                HasSubstr("not a valid ferry name"));
}

// A name preloaded as a directory must be one a store can hold, and not a
// preloaded file's too: the two settings are checked together.
TEST(ParseScenario, APreloadedDirectoryHasAValidNameNoFileHas) {
    const std::string client = "\n[[client]]\nsteps = [{ dir = true }]";
    EXPECT_THAT(error_of("name = \"x\"\n[ferry]\ndirectory = \"a/b\"" + client),
                HasSubstr("not a valid ferry name"));
    EXPECT_THAT(
        error_of("name = \"x\"\n[ferry]\nfiles = { d = \"a\" }\ndirectory = \"d\"" + client),
        HasSubstr("s.toml:2:1: \"d\" is both in \"files\" and the \"directory\""));
    const Scenario s =
        parse("name = \"x\"\n[ferry]\nfiles = { f = \"a\" }\ndirectory = \"d\"" + client);
    EXPECT_EQ(check_case(s.run.work, registry().find("ferry")->schema()), std::nullopt);
}

TEST(ParseScenario, TraversalNamesAreAllowedInStepsSoScenariosCanTestRefusal) {
    const Scenario s =
        parse("name = \"x\"\n[[client]]\nsteps = [{ put = \"../etc/passwd\", content = \"x\" }]");
    ASSERT_EQ(s.run.work.clients[0].ops.size(), 1u);
    EXPECT_EQ(text_of(s.run.work.clients[0].ops[0].params, "name"), "../etc/passwd");
}

}  // namespace
}  // namespace ferry::harness
