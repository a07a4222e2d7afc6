#pragma once
// A simulated disk behind the Filesystem door (mirrors real/posix_filesystem.h):
// one directory of regular files (and, for tests, empty subdirectories) with a
// page cache, crashes and failing calls, every call in the trace. The real
// DiskStore runs on it unchanged.
//
// What a crash keeps. For each file and for the directory's entries the disk
// keeps what is durable apart from what is only in the page cache:
// - A file's bytes: write() appends to the page cache; the file's sync()
//   makes its bytes and size durable. (The door neither overwrites nor
//   truncates, so a file's durable bytes are always a prefix of its bytes.)
// - A file's attributes (set_attribute): set at once for every reader; the
//   file's sync() makes them durable with its bytes.
// - The directory: creating, renaming and unlinking change it at once for
//   every reader, and are kept as a list of changes since the last
//   sync_directory(), which makes all of them durable.
// crash() keeps everything durable and, of the rest, what ext4 or xfs could
// have written back before the power went, as chosen by the DecisionSource:
// - of the directory's changes, a prefix, in order (both filesystems journal
//   metadata, and a journal commits in order), each change whole: a rename
//   never leaves both names, or neither;
// - of each file's unsynced bytes, a prefix (none, some or all), of which a
//   tail may read back as zeros: blocks allocated and sized but never written,
//   which xfs and ext4 in writeback mode show after a crash. A file's bytes do
//   not follow its directory entry: a file renamed into place without a sync
//   may come back empty (ext4's zero-length files of 2009);
// - of each file's unsynced attributes, all or none (an xattr change is one
//   journal transaction), whatever became of its bytes: a digest set on a
//   file whose bytes were never synced may outlive them.
// Where POSIX and ext4/xfs differ, the model promises what POSIX promises and
// keeps at most what ext4/xfs could: a file's sync does not make its
// directory entry durable, a directory's sync does not make its files' bytes
// durable, and neither makes other changes durable, though ext4 and xfs
// commit earlier metadata with any fsync and ext4 flushes a file's data
// before a rename over another (auto_da_alloc) -- a crash may keep those, but
// code that relies on them fails here. Option 0 of every choice is "nothing
// unsynced survives". Not modelled: writes in place and torn sectors (the
// door has none), subdirectories with contents, hard links, a disk that lies
// about sync, corruption of durable data.
//
// Machines and processes. mount() is the door one boot of a machine uses.
// revoke() is that machine's processes dying (kill -9): the files they opened
// close and their locks go, but the page cache stays, as for a real process.
// crash() is the machine losing power: every mount is revoked and the disk
// keeps what is described above. A call through a revoked mount fails with
// EIO and does nothing, so code that unwinds in a killed process cannot clean
// up what a real kill would have left (sim_node.h does both for a machine).
//
// Faults (FsFaults): any call failing with EIO or ENOSPC at random, or the
// Nth (of one kind or of all), once or from then on; a disk that fills (a
// short write, then ENOSPC); a crash at the Nth call; syncs that take virtual
// time. Every call, failure and crash goes into the simulation's trace.
//
// Time. With a call latency (FsFaults::call_latency_ms_*) every call takes
// virtual time before it takes effect, drawn per call from the
// DecisionSource (option 0: the least): the calling process waits and others
// run, so a store's sequence of calls (hash a file, then keep its digest;
// write, rename) interleaves with other processes' as on a real disk, and a
// replay of the recorded choices interleaves them the same way. The wait
// never throws (Simulation::take_time): it may come in a destructor's
// cleanup.
//
// Not thread-safe (nothing in a simulation is); it must outlive its mounts
// and their files.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/protocol/filesystem.h"
#include "ferry/sim/compact_bytes.h"
#include "ferry/sim/faults.h"

namespace ferry::sim {

class Simulation;
class SimFilesystem;

using MountId = std::uint64_t;

/// The door one boot of a machine uses (from SimFilesystem::mount).
class SimMount final : public Filesystem {
  public:
    SimMount(SimFilesystem& disk, MountId id) : disk_(disk), id_(id) {}
    MountId id() const { return id_; }

    FsResult<std::unique_ptr<FsFile>> open(std::string_view name, FsOpenMode mode) override;
    FsResult<FsStat> stat(std::string_view name) override;
    FsResult<std::vector<std::string>> list() override;
    int rename(std::string_view from, std::string_view to) override;
    int unlink(std::string_view name) override;
    int sync_directory() override;
    std::string describe() const override;

  private:
    SimFilesystem& disk_;
    MountId id_;
};

class SimFilesystem {
  public:
    SimFilesystem(Simulation& sim, FsFaults faults = {}, std::string name = "disk");
    ~SimFilesystem();
    SimFilesystem(const SimFilesystem&) = delete;
    SimFilesystem& operator=(const SimFilesystem&) = delete;

    /// A door for one boot of a machine (hand it to a DiskStore).
    std::unique_ptr<SimMount> mount();
    /// The processes using mount died: its files close, its locks go, the
    /// page cache stays. Later calls through it fail with EIO. Idempotent.
    void revoke(MountId mount);
    /// The power goes: every mount is revoked; the disk keeps what is durable
    /// and what the DecisionSource picks of the rest (see above).
    void crash();
    /// What a crash_at_call fault calls (a machine's crash: its processes
    /// die too); none = crash() alone.
    void set_crash_handler(std::function<void()> handler) { crash_handler_ = std::move(handler); }

    /// Replaces the faults and counts calls afresh.
    void set_faults(const FsFaults& faults);
    const FsFaults& faults() const { return faults_; }

    // --- for tests and checkers: no faults, no trace ---

    /// Every entry's name, sorted.
    std::vector<std::string> names() const;
    /// A regular file's bytes as readers see them now; none if no such file.
    std::optional<std::vector<std::byte>> file(std::string_view name) const;
    /// The same, as the disk holds them: a generated payload as its stream.
    std::optional<CompactBytes> file_content(std::string_view name) const;
    /// The value of a regular file's attribute key as readers see it now;
    /// none if no such file or attribute.
    std::optional<std::string> attribute(std::string_view name, std::string_view key) const;
    /// A durable file of these bytes under a durable name.
    void put_durable_file(std::string_view name, std::span<const std::byte> bytes);
    /// A durable, empty subdirectory.
    void put_directory(std::string_view name);
    /// Directory changes not yet durable.
    std::size_t unsynced_changes() const { return changes_.size(); }
    /// Calls counted since the faults were last set (through live mounts).
    std::uint64_t calls() const { return calls_; }
    std::uint64_t used_bytes() const { return used_bytes_; }
    std::uint64_t crashes() const { return crashes_; }
    /// Calls that failed because a fault said so (not a crash, not a full
    /// disk, not a revoked mount).
    std::uint64_t injected_failures() const { return failures_; }
    const std::string& name() const { return name_; }

  private:
    friend class SimMount;
    friend class SimFsFile;

    struct Inode {
        FsEntryType type = FsEntryType::regular;
        CompactBytes bytes;  ///< in the page cache
        std::uint64_t durable_bytes = 0;
        std::uint64_t lock_holder = 0;  ///< a handle, 0 = unlocked
        /// Names (readers' and durable), pending changes and open files that
        /// refer to it: at 0 it is garbage.
        std::uint64_t references = 0;
        std::map<std::string, std::string, std::less<>> attributes;  ///< in the page cache
        std::map<std::string, std::string, std::less<>> durable_attributes;
    };
    /// One directory change: a creation (no from), an unlink (no to) or a
    /// rename, of file inode.
    struct Change {
        std::string from;
        std::string to;
        std::uint64_t inode = 0;
    };
    struct Handle {
        std::uint64_t inode = 0;
        MountId mount = 0;
        FsOpenMode mode = FsOpenMode::read;
    };
    using Entries = std::map<std::string, std::uint64_t, std::less<>>;

    /// Counts a call through mount and says whether it fails: the errno, or 0
    /// to run it. A revoked mount's calls fail with EIO uncounted.
    int begin_call(FsCall call, MountId mount);
    bool fault_fires(std::uint64_t at, const std::optional<FsCall>& kind, FsCall call) const;
    int fail(FsCall call, int error);
    /// A sync's time, if it takes any; then whether mount survived it.
    bool wait_for_sync(MountId mount);
    /// A call's time through a live mount, if calls take any (drawn). It
    /// never throws: a process killed meanwhile finds its mount revoked.
    void take_call_time(MountId mount);
    /// The same for a call on an open file.
    void take_file_call_time(std::uint64_t handle);

    FsResult<std::unique_ptr<FsFile>> open(MountId mount, std::string_view name, FsOpenMode mode);
    FsResult<FsStat> stat(MountId mount, std::string_view name);
    FsResult<std::vector<std::string>> list(MountId mount);
    int rename(MountId mount, std::string_view from, std::string_view to);
    int unlink(MountId mount, std::string_view name);
    int sync_directory(MountId mount);

    // Calls on an open file (SimFsFile), by handle.
    const Handle* handle(std::uint64_t id, int& error) const;
    /// A call on open file id begins: its time passes, then the handle, or
    /// none with error set (recorded as refused or failed, as begin_call does).
    const Handle* start_file_call(std::uint64_t id, FsCall call, int& error);
    FsResult<std::size_t> write(std::uint64_t handle, std::span<const std::byte> bytes);
    FsResult<std::size_t> read_at(std::uint64_t handle, std::uint64_t offset,
                                  std::span<std::byte> buffer);
    int sync(std::uint64_t handle);
    FsResult<FsStat> stat_handle(std::uint64_t handle);
    int try_lock(std::uint64_t handle);
    int close(std::uint64_t handle, bool counted);
    FsResult<std::string> get_attribute(std::uint64_t handle, std::string_view key);
    int set_attribute(std::uint64_t handle, std::string_view key, std::string_view value);

    std::uint64_t create(std::string_view name, FsEntryType type);
    FsStat stat_of(std::uint64_t inode) const;
    /// Applies change to entries, without counting references (a crash's
    /// scratch copy).
    static void apply(Entries& entries, const Change& change);
    /// The same to durable_entries_, counting references.
    void apply_durably(const Change& change);
    /// Names inode name in entries (entries_ or durable_entries_), counting
    /// references; replaces what name named.
    void set_entry(Entries& entries, std::string_view name, std::uint64_t inode);
    void erase_entry(Entries& entries, Entries::iterator entry);
    void add_change(Change change);
    void lose_unsynced_bytes(Inode& inode);
    void lose_unsynced_attributes(Inode& inode);
    /// One reference more or less to inode; at none it is garbage, dropped
    /// by the next collect_garbage().
    void hold(std::uint64_t inode) { ++inodes_.at(inode).references; }
    void release(std::uint64_t inode);
    /// Drops files no name, pending change or open file refers to: those
    /// whose references fell to 0 since the last call (a scan of every file
    /// on each call made a run of N uploads O(N^2)).
    void collect_garbage();
    /// Counts every file's references afresh and collects (after a crash
    /// replaces the directory wholesale).
    void recount_references();
    /// A durable name, for tests and preloads (put_durable_file).
    void put_durable_entry(std::string_view name, std::uint64_t inode);
    /// sync_directory's work: the durable entries become the readers'.
    void make_changes_durable();
    std::uint64_t intern(std::string_view text);

    Simulation& sim_;
    FsFaults faults_;
    std::string name_;
    std::function<void()> crash_handler_;
    std::map<std::uint64_t, Inode> inodes_;
    Entries entries_;          ///< as readers see them
    Entries durable_entries_;  ///< as of the last sync_directory
    std::vector<Change> changes_;
    /// A durable name was put while changes were pending: entries_ is then
    /// no longer durable_entries_ with changes_ applied, and the next
    /// sync_directory copies it whole.
    bool entries_diverged_ = false;
    std::map<std::uint64_t, Handle> handles_;  ///< open files
    std::set<std::uint64_t> dead_handles_;     ///< files of revoked mounts
    std::set<MountId> live_mounts_;
    std::vector<std::uint64_t> unreferenced_;  ///< inodes whose references fell to 0
    std::uint64_t next_inode_ = 1;
    std::uint64_t next_handle_ = 1;
    MountId next_mount_ = 1;
    std::uint64_t used_bytes_ = 0;
    std::uint64_t calls_ = 0;
    std::uint64_t calls_by_kind_[fs_call_count] = {};
    std::uint64_t crashes_ = 0;
    std::uint64_t failures_ = 0;
    bool failed_before_ = false;  ///< for failures_persist
};

}  // namespace ferry::sim
