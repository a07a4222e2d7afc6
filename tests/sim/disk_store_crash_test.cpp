// The real DiskStore on the simulated disk: a crash (or a kill, or a failing
// call) at every filesystem call of an upload in turn, as SQLite's fault
// tests fail call 1, 2, 3, ... until a run completes untouched; then a
// restart, and the durability promises checked:
// - an upload acknowledged before the crash is there, byte for byte;
// - every name holds its old content or one complete upload;
// - no temporary file survives the restart's cleanup;
// - a failed upload leaves nothing (the old content stays), except a commit
//   whose directory sync failed, which says so;
// - a digest kept with a file (docs/storage.md) describes its bytes.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/core.h>

#include "ferry/protocol/digest.h"
#include "ferry/real/disk_store.h"
#include "ferry/sim/sim_node.h"
#include "sim_test_support.h"

namespace ferry::sim {
namespace {

using Bytes = std::vector<std::byte>;
using testing::ms;
using testing::random_bytes;

/// One server machine with a disk, in a simulation seeded with seed.
struct Machine {
    explicit Machine(std::uint64_t seed)
        : sim(options(seed)), disk(sim), node(sim, "server", &disk) {}
    ~Machine() { sim.stop_processes(); }  // while the disk they use is alive
    static SimOptions options(std::uint64_t seed) {
        SimOptions options;
        options.seed = seed;
        return options;
    }
    Simulation sim;
    SimFilesystem disk;
    SimNode node;
};

/// How an upload of one version ended, as its client would know it.
enum class Ended { acknowledged, failed, visible_but_not_durable, cut_short };

/// Uploads bytes as name in two writes; never throws StoreError.
Ended upload(Store& store, const std::string& name, const Bytes& bytes) {
    try {
        auto upload = store.begin_upload(name);
        const std::size_t half = bytes.size() / 2;
        if (upload->try_write(std::span(bytes).first(half)) ||
            upload->try_write(std::span(bytes).subspan(half))) {
            return Ended::failed;
        }
        upload->set_digest(digest_hex(bytes));
        if (const StoreStatus failed = upload->try_commit())
            return failed->new_version_visible ? Ended::visible_but_not_durable : Ended::failed;
        return Ended::acknowledged;
    } catch (const StoreError&) {
        return Ended::failed;
    }
}

/// The files a restarted store sees, after checking that nothing but its
/// lock and valid names is left.
std::map<std::string, Bytes> restart_and_read(SimFilesystem& disk) {
    disk.set_faults({});
    DiskStore store(disk.mount());
    std::map<std::string, Bytes> files;
    for (const std::string& name : disk.names()) {
        EXPECT_FALSE(DiskStore::is_temporary_name(name)) << name << " survived the cleanup";
        if (DiskStore::is_lock_name(name)) {
            EXPECT_EQ(name, fmt::format(".ferry-lock-{}", store.instance()));
            continue;
        }
        files[name] = *disk.file(name);
        // Whatever the crash kept of the file, a digest kept with it agrees.
        if (const auto digest = store.open(name)->stored_digest()) {
            EXPECT_EQ(*digest, digest_hex(files[name])) << name << "'s stored digest is stale";
        }
    }
    std::vector<FileInfo> expected_listing;
    for (const auto& [name, bytes] : files)
        expected_listing.push_back({name, bytes.size()});
    EXPECT_EQ(store.list(), expected_listing);
    return files;
}

/// Leftovers of an earlier boot that died mid-upload: its lock file and a
/// temporary file, durable.
void put_leftovers(SimFilesystem& disk) {
    disk.put_durable_file(".ferry-lock-1", {});
    disk.put_durable_file(".ferry-tmp-1-1", testing::bytes_of("half an upload"));
    disk.put_durable_file(".ferry-tmp-7-3", testing::bytes_of("lock lost"));
}

/// Dies (crashes or is killed, by how the disk's crash handler is set) at
/// call `at` of a boot that opens a store and uploads new_bytes as "f" over
/// old_bytes. Returns how the upload ended, or none when it ran clean.
std::optional<Ended> die_at_call(Machine& machine, std::uint64_t at, const Bytes& old_bytes,
                                 const Bytes& new_bytes) {
    machine.disk.put_durable_file("f", old_bytes);
    put_leftovers(machine.disk);
    FsFaults faults;
    faults.crash_at_call = at;
    machine.disk.set_faults(faults);
    Ended ended = Ended::cut_short;
    machine.node.spawn("server", [&] {
        try {
            DiskStore store(machine.node.mount());
            ended = upload(store, "f", new_bytes);
        } catch (const StoreError&) {
            ended = Ended::failed;  // could not even start
        }
    });
    EXPECT_EQ(machine.sim.run().status, RunStatus::completed);
    if (machine.node.deaths() == 0)
        return std::nullopt;
    return ended;
}

TEST(DiskStoreOnSimDisk, ACrashAtEveryCallOfAnUploadLosesNothingAcknowledged) {
    const Bytes old_bytes = random_bytes(3000, 1);
    const Bytes new_bytes = random_bytes(5000, 2);
    std::uint64_t crash_points = 0;
    // Each seed draws other survivors at each crash.
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
        for (std::uint64_t at = 1;; ++at) {
            SCOPED_TRACE(fmt::format("seed {}, crash at call {}", seed, at));
            Machine machine(seed);
            const auto ended = die_at_call(machine, at, old_bytes, new_bytes);
            if (!ended) {
                EXPECT_GE(at, 10u);
                break;
            }
            ++crash_points;
            const auto files = restart_and_read(machine.disk);
            ASSERT_EQ(files.count("f"), 1u);
            if (*ended == Ended::acknowledged) {
                // Crashed after the commit (closing the store): it is durable.
                EXPECT_EQ(files.at("f"), new_bytes);
            } else {
                EXPECT_TRUE(files.at("f") == old_bytes || files.at("f") == new_bytes);
            }
            EXPECT_EQ(files.size(), 1u);
        }
    }
    EXPECT_GE(crash_points, 12u * 10);
}

TEST(DiskStoreOnSimDisk, ACrashAtTheDigestOrAfterItKeepsADigestOnlyWithItsOwnBytes) {
    const Bytes old_bytes = random_bytes(3000, 1);
    const Bytes new_bytes = random_bytes(3000, 2);  // the same size: only the digest tells
    std::uint64_t kept_new_digest = 0;
    for (std::uint64_t seed = 1; seed <= 24; ++seed) {
        for (const FsCall call : {FsCall::set_attribute, FsCall::sync, FsCall::close,
                                  FsCall::rename, FsCall::sync_directory}) {
            SCOPED_TRACE(fmt::format("seed {}, crash at {}", seed, to_string(call)));
            Machine machine(seed);
            FsFaults faults;
            faults.crash_call_kind = call;
            faults.crash_at_call = 1;
            machine.disk.put_durable_file("f", old_bytes);
            machine.node.spawn("server", [&] {
                DiskStore store(machine.node.mount());
                machine.disk.set_faults(faults);  // after the store's own opening calls
                (void)upload(store, "f", new_bytes);
            });
            EXPECT_EQ(machine.sim.run().status, RunStatus::completed);
            EXPECT_EQ(machine.disk.crashes(), 1u);
            const auto files = restart_and_read(machine.disk);  // checks the digest
            ASSERT_EQ(files.count("f"), 1u);
            if (files.at("f") == new_bytes && machine.disk.attribute("f", "user.ferry.xxh3-128"))
                ++kept_new_digest;
        }
    }
    EXPECT_GT(kept_new_digest, 0u);
}

TEST(DiskStoreOnSimDisk, ADigestKeptByAReaderSurvivesACrashOrIsGoneButIsNeverWrong) {
    const Bytes bytes = random_bytes(2000, 7);
    std::uint64_t kept = 0;
    for (std::uint64_t seed = 1; seed <= 24; ++seed) {
        SCOPED_TRACE(fmt::format("seed {}", seed));
        Machine machine(seed);
        machine.disk.put_durable_file("legacy", bytes);  // no digest kept
        machine.node.spawn("server", [&] {
            DiskStore store(machine.node.mount());
            const auto reader = store.open("legacy");
            EXPECT_EQ(reader->stored_digest(), std::nullopt);
            reader->keep_digest(digest_hex(bytes));
            EXPECT_EQ(store.open("legacy")->stored_digest(), digest_hex(bytes));
        });
        EXPECT_EQ(machine.sim.run().status, RunStatus::completed);
        machine.disk.crash();  // the attribute was never synced
        const auto files = restart_and_read(machine.disk);
        EXPECT_EQ(files.at("legacy"), bytes);
        if (machine.disk.attribute("legacy", "user.ferry.xxh3-128"))
            ++kept;
    }
    EXPECT_GT(kept, 0u);
    EXPECT_LT(kept, 24u);
}

TEST(DiskStoreOnSimDisk, AKillAtEveryCallOfAnUploadLeavesNoTemporaryFileAfterRestart) {
    const Bytes old_bytes = random_bytes(100, 3);
    const Bytes new_bytes = random_bytes(200, 4);
    for (std::uint64_t at = 1;; ++at) {
        SCOPED_TRACE(fmt::format("killed at call {}", at));
        Machine machine(at);
        machine.disk.set_crash_handler([&] { machine.node.kill(); });  // the page cache stays
        const auto ended = die_at_call(machine, at, old_bytes, new_bytes);
        if (!ended)
            break;
        EXPECT_EQ(machine.disk.crashes(), 0u);
        const auto files = restart_and_read(machine.disk);
        ASSERT_EQ(files.count("f"), 1u);
        EXPECT_TRUE(files.at("f") == old_bytes || files.at("f") == new_bytes);
    }
}

/// Every call of an upload failing in turn, with error, once or for good;
/// then the disk crashes and the store restarts.
void fail_every_call(int error, bool persist) {
    const Bytes old_bytes = random_bytes(100, 5);
    const Bytes new_bytes = random_bytes(300, 6);
    for (std::uint64_t at = 1;; ++at) {
        SCOPED_TRACE(fmt::format("call {} fails with {}", at, error));
        Machine machine(at);
        machine.disk.put_durable_file("f", old_bytes);
        DiskStore store(machine.disk.mount());
        FsFaults faults;
        faults.fail_call_at = at;
        faults.fail_error = error;
        faults.failures_persist = persist;
        machine.disk.set_faults(faults);
        const Ended ended = upload(store, "f", new_bytes);
        const std::uint64_t calls = machine.disk.calls();
        machine.disk.set_faults({});
        if (at > calls) {
            EXPECT_EQ(ended, Ended::acknowledged);
            break;
        }
        if (ended == Ended::acknowledged) {
            // Only the digest could not be kept: the upload goes on without
            // it, durable, and a GET hashes it.
            EXPECT_FALSE(persist);
            EXPECT_FALSE(machine.disk.attribute("f", "user.ferry.xxh3-128"));
            machine.disk.crash();
            EXPECT_EQ(restart_and_read(machine.disk).at("f"), new_bytes);
            continue;
        }
        // Until the crash, readers see the old version after a failure, the
        // new one after a failed directory sync.
        const bool visible = ended == Ended::visible_but_not_durable;
        EXPECT_EQ(machine.disk.file("f"), visible ? new_bytes : old_bytes);
        if (!persist) {
            EXPECT_THAT(machine.disk.names(), ::testing::ElementsAre(".ferry-lock-1", "f"));
        }
        machine.disk.crash();
        const auto files = restart_and_read(machine.disk);
        ASSERT_EQ(files.count("f"), 1u);
        if (visible) {
            EXPECT_TRUE(files.at("f") == old_bytes || files.at("f") == new_bytes);
        } else {
            EXPECT_EQ(files.at("f"), old_bytes);
        }
    }
}

TEST(DiskStoreOnSimDisk, EveryCallOfAnUploadFailingOnceLeavesTheOldVersionOrSaysSo) {
    fail_every_call(EIO, false);
    fail_every_call(ENOSPC, false);
}

TEST(DiskStoreOnSimDisk, EveryCallOfAnUploadFailingForGoodLeavesTheOldVersionOrSaysSo) {
    fail_every_call(EIO, true);
    fail_every_call(ENOSPC, true);
}

/// What one writer process did to its own name, in order.
struct Writer {
    std::string name;
    std::vector<Bytes> versions;  ///< [0] is the initial, durable content
    std::size_t last_acknowledged = 0;
    std::size_t last_attempted = 0;
};

TEST(DiskStoreOnSimDisk, ConcurrentUploadsCrashedAtRandomTimesKeepEveryAcknowledgedOne) {
    for (std::uint64_t seed = 1; seed <= 60; ++seed) {
        SCOPED_TRACE(fmt::format("seed {}", seed));
        Machine machine(seed);
        FsFaults faults;
        faults.sync_latency_ms_min = 1;
        faults.sync_latency_ms_max = 5;
        machine.disk.set_faults(faults);
        std::vector<Writer> writers(3);
        for (std::size_t w = 0; w < writers.size(); ++w) {
            writers[w].name = fmt::format("file-{}", w);
            for (std::size_t v = 0; v < 5; ++v)
                writers[w].versions.push_back(random_bytes(50 + 700 * v, seed * 100 + w * 10 + v));
            machine.disk.put_durable_file(writers[w].name, writers[w].versions[0]);
        }
        machine.node.spawn(
            "server",
            [&] {
                DiskStore store(machine.node.mount());
                for (Writer& writer : writers) {
                    machine.sim.spawn(writer.name, [&] {
                        for (std::size_t v = 1; v < writer.versions.size(); ++v) {
                            writer.last_attempted = v;
                            if (upload(store, writer.name, writer.versions[v]) ==
                                Ended::acknowledged)
                                writer.last_acknowledged = v;
                        }
                    });
                }
                machine.sim.delay(std::chrono::hours(1));  // the store outlives the writers
            },
            true);
        machine.sim.spawn("power", [&] {
            machine.sim.delay(
                ms(static_cast<std::int64_t>(machine.sim.decisions().between(0, 40))));
            machine.node.crash();
        });
        EXPECT_EQ(machine.sim.run().status, RunStatus::completed);
        const auto files = restart_and_read(machine.disk);
        for (const Writer& writer : writers) {
            ASSERT_EQ(files.count(writer.name), 1u) << writer.name;
            const Bytes& found = files.at(writer.name);
            bool allowed = false;
            for (std::size_t v = writer.last_acknowledged; v <= writer.last_attempted; ++v)
                allowed = allowed || found == writer.versions[v];
            EXPECT_TRUE(allowed) << writer.name << ": acknowledged up to version "
                                 << writer.last_acknowledged << ", attempted up to "
                                 << writer.last_attempted << ", found " << found.size() << " bytes";
        }
    }
}

TEST(DiskStoreOnSimDisk, ACrashedRunIsDeterministic) {
    auto digest = [](std::uint64_t seed) {
        Machine machine(seed);
        FsFaults faults;
        faults.sync_latency_ms_max = 3;
        faults.random_failures = Ratio{1, 20};
        machine.disk.set_faults(faults);
        machine.node.spawn("server", [&] {
            try {
                DiskStore store(machine.node.mount());
                for (int v = 0; v < 6; ++v)
                    (void)upload(store, "f", random_bytes(100 * v, v));
            } catch (const StoreError&) {
            }
        });
        machine.sim.spawn("power", [&] {
            machine.sim.delay(ms(static_cast<std::int64_t>(machine.sim.decisions().between(0, 9))));
            machine.node.crash();
        });
        EXPECT_EQ(machine.sim.run().status, RunStatus::completed);
        return std::make_pair(machine.sim.trace().digest(), machine.disk.names());
    };
    for (std::uint64_t seed = 1; seed <= 5; ++seed)
        EXPECT_EQ(digest(seed), digest(seed)) << "seed " << seed;
    EXPECT_NE(digest(1).first, digest(2).first);
}

TEST(DiskStoreOnSimDisk, ItServesOnTheSimulatedDiskAsOnARealOne) {
    Machine machine(1);
    machine.disk.put_directory("subdir");
    DiskStore store(machine.disk.mount());
    EXPECT_EQ(upload(store, "a", testing::bytes_of("one")), Ended::acknowledged);
    EXPECT_EQ(upload(store, "a", testing::bytes_of("two")), Ended::acknowledged);
    EXPECT_EQ(upload(store, "subdir", testing::bytes_of("x")), Ended::failed);
    {
        auto pending = store.begin_upload("b");
        pending->write(testing::bytes_of("pending"));
        EXPECT_THAT(machine.disk.names(),
                    ::testing::ElementsAre(".ferry-lock-1", ".ferry-tmp-1-3", "a", "subdir"));
        EXPECT_EQ(store.list(), (std::vector<FileInfo>{{"a", 3}}));
    }
    auto reader = store.open("a");
    std::vector<std::byte> buffer(8);
    EXPECT_EQ(reader->read_at(0, buffer), 3u);
    EXPECT_THAT(machine.disk.names(), ::testing::ElementsAre(".ferry-lock-1", "a", "subdir"));
    DiskStore second(machine.disk.mount());
    EXPECT_EQ(second.instance(), 2u);
}

}  // namespace
}  // namespace ferry::sim
