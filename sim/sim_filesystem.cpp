#include "ferry/sim/sim_filesystem.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/core.h>

#include "ferry/sim/simulation.h"

namespace ferry::sim {

// --- SimFsFile: an open file, by handle ---

class SimFsFile final : public FsFile {
  public:
    SimFsFile(SimFilesystem& disk, std::uint64_t handle) : disk_(disk), handle_(handle) {}
    ~SimFsFile() override { (void)disk_.close(handle_, false); }
    SimFsFile(const SimFsFile&) = delete;
    SimFsFile& operator=(const SimFsFile&) = delete;

    FsResult<std::size_t> write(std::span<const std::byte> bytes) override {
        return disk_.write(handle_, bytes);
    }
    FsResult<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> buffer) override {
        return disk_.read_at(handle_, offset, buffer);
    }
    int sync() override { return disk_.sync(handle_); }
    FsResult<FsStat> stat() override { return disk_.stat_handle(handle_); }
    int try_lock() override { return disk_.try_lock(handle_); }
    int close() override { return disk_.close(handle_, true); }
    FsResult<std::string> get_attribute(std::string_view key) override {
        return disk_.get_attribute(handle_, key);
    }
    int set_attribute(std::string_view key, std::string_view value) override {
        return disk_.set_attribute(handle_, key, value);
    }

  private:
    SimFilesystem& disk_;
    std::uint64_t handle_;
};

// --- SimMount ---

FsResult<std::unique_ptr<FsFile>> SimMount::open(std::string_view name, FsOpenMode mode) {
    return disk_.open(id_, name, mode);
}
FsResult<FsStat> SimMount::stat(std::string_view name) {
    return disk_.stat(id_, name);
}
FsResult<std::vector<std::string>> SimMount::list() {
    return disk_.list(id_);
}
int SimMount::rename(std::string_view from, std::string_view to) {
    return disk_.rename(id_, from, to);
}
int SimMount::unlink(std::string_view name) {
    return disk_.unlink(id_, name);
}
int SimMount::sync_directory() {
    return disk_.sync_directory(id_);
}
std::string SimMount::describe() const {
    return fmt::format("sim:{}", disk_.name());
}

// --- SimFilesystem: machines, crashes, faults ---

SimFilesystem::SimFilesystem(Simulation& sim, FsFaults faults, std::string name)
    : sim_(sim), faults_(faults), name_(std::move(name)) {}

SimFilesystem::~SimFilesystem() = default;

std::unique_ptr<SimMount> SimFilesystem::mount() {
    const MountId id = next_mount_++;
    live_mounts_.insert(id);
    return std::make_unique<SimMount>(*this, id);
}

void SimFilesystem::revoke(MountId mount) {
    if (live_mounts_.erase(mount) == 0)
        return;
    for (auto it = handles_.begin(); it != handles_.end();) {
        if (it->second.mount != mount) {
            ++it;
            continue;
        }
        Inode& inode = inodes_.at(it->second.inode);
        if (inode.lock_holder == it->first)
            inode.lock_holder = 0;
        release(it->second.inode);
        dead_handles_.insert(it->first);
        it = handles_.erase(it);
    }
    collect_garbage();
}

void SimFilesystem::crash() {
    for (const MountId mount : std::set<MountId>(live_mounts_))
        revoke(mount);
    // The directory: a prefix of its unsynced changes, in order.
    const std::uint64_t total = changes_.size();
    const std::uint64_t kept = sim_.decisions().choose(total + 1);
    Entries entries = durable_entries_;
    for (std::uint64_t i = 0; i < kept; ++i)
        apply(entries, changes_[i]);
    entries_ = entries;
    durable_entries_ = std::move(entries);
    changes_.clear();
    entries_diverged_ = false;
    // Each file still named: a prefix of its unsynced bytes, maybe zeros.
    std::set<std::uint64_t> named;
    for (const auto& [name, inode] : entries_)
        named.insert(inode);
    for (const std::uint64_t inode : named) {
        lose_unsynced_bytes(inodes_.at(inode));
        lose_unsynced_attributes(inodes_.at(inode));
    }
    recount_references();
    ++crashes_;
    sim_.record(TraceKind::fs_crash, 0, Side::client, kept, total - kept);
}

void SimFilesystem::lose_unsynced_bytes(Inode& inode) {
    const std::uint64_t size = inode.bytes.size();
    if (size > inode.durable_bytes) {
        DecisionSource& decisions = sim_.decisions();
        const std::uint64_t survive = decisions.choose(size - inode.durable_bytes + 1);
        const std::uint64_t new_size = inode.durable_bytes + survive;
        // Allocated and sized, never written: the last zeros read back as zeros.
        const std::uint64_t zeros = survive > 0 ? decisions.choose(survive + 1) : 0;
        used_bytes_ -= size - new_size;
        inode.bytes.truncate(new_size - zeros);
        inode.bytes.append_zeros(zeros);
    }
    inode.durable_bytes = inode.bytes.size();
    inode.lock_holder = 0;
}

void SimFilesystem::lose_unsynced_attributes(Inode& inode) {
    if (inode.attributes != inode.durable_attributes && sim_.decisions().choose(2) == 0)
        inode.attributes = inode.durable_attributes;
    inode.durable_attributes = inode.attributes;
}

void SimFilesystem::apply(Entries& entries, const Change& change) {
    if (!change.from.empty())
        entries.erase(change.from);
    if (!change.to.empty())
        entries[change.to] = change.inode;
}

void SimFilesystem::apply_durably(const Change& change) {
    if (!change.from.empty()) {
        const auto it = durable_entries_.find(change.from);
        if (it != durable_entries_.end())
            erase_entry(durable_entries_, it);
    }
    if (!change.to.empty())
        set_entry(durable_entries_, change.to, change.inode);
}

void SimFilesystem::set_entry(Entries& entries, std::string_view name, std::uint64_t inode) {
    hold(inode);
    const auto it = entries.find(name);
    if (it == entries.end()) {
        entries.emplace(std::string(name), inode);
        return;
    }
    release(it->second);
    it->second = inode;
}

void SimFilesystem::erase_entry(Entries& entries, Entries::iterator entry) {
    release(entry->second);
    entries.erase(entry);
}

void SimFilesystem::add_change(Change change) {
    hold(change.inode);
    changes_.push_back(std::move(change));
}

void SimFilesystem::release(std::uint64_t inode) {
    if (--inodes_.at(inode).references == 0)
        unreferenced_.push_back(inode);
}

void SimFilesystem::collect_garbage() {
    // Ids are never reused, so the order files go in changes nothing.
    for (const std::uint64_t id : unreferenced_) {
        const auto it = inodes_.find(id);
        if (it == inodes_.end() || it->second.references != 0)
            continue;  // gone already, or referred to again since
        used_bytes_ -= it->second.bytes.size();
        inodes_.erase(it);
    }
    unreferenced_.clear();
}

void SimFilesystem::recount_references() {
    for (auto& [id, inode] : inodes_)
        inode.references = 0;
    for (const auto& [name, inode] : entries_)
        hold(inode);
    for (const auto& [name, inode] : durable_entries_)
        hold(inode);
    for (const Change& change : changes_)
        hold(change.inode);
    for (const auto& [id, handle] : handles_)
        hold(handle.inode);
    unreferenced_.clear();
    for (const auto& [id, inode] : inodes_) {
        if (inode.references == 0)
            unreferenced_.push_back(id);
    }
    collect_garbage();
}

void SimFilesystem::set_faults(const FsFaults& faults) {
    faults_ = faults;
    calls_ = 0;
    std::fill(std::begin(calls_by_kind_), std::end(calls_by_kind_), 0);
    failed_before_ = false;
}

std::uint64_t SimFilesystem::intern(std::string_view text) {
    return sim_.trace().intern(text);
}

bool SimFilesystem::fault_fires(std::uint64_t at, const std::optional<FsCall>& kind,
                                FsCall call) const {
    if (at == 0 || (kind && *kind != call))
        return false;
    const std::uint64_t count = kind ? calls_by_kind_[static_cast<std::size_t>(*kind)] : calls_;
    return count == at;
}

int SimFilesystem::fail(FsCall call, int error) {
    ++failures_;
    sim_.record(TraceKind::fs_fault, 0, Side::client, intern(to_string(call)),
                static_cast<std::uint64_t>(error));
    return error;
}

namespace {

/// A call that fails for a reason of its own (no such file, name taken).
int refused(Simulation& sim, FsCall call, int error) {
    sim.record(TraceKind::fs_error, 0, Side::client, sim.trace().intern(to_string(call)),
               static_cast<std::uint64_t>(error));
    return error;
}

}  // namespace

int SimFilesystem::begin_call(FsCall call, MountId mount) {
    if (live_mounts_.count(mount) == 0)
        return refused(sim_, call, EIO);  // its machine is gone
    ++calls_;
    ++calls_by_kind_[static_cast<std::size_t>(call)];
    if (fault_fires(faults_.crash_at_call, faults_.crash_call_kind, call)) {
        sim_.record(TraceKind::fs_fault, 0, Side::client, intern("crash"), calls_);
        if (crash_handler_) {
            crash_handler_();
        } else {
            crash();
        }
        return EIO;
    }
    const bool kind_matches = !faults_.fail_call_kind || *faults_.fail_call_kind == call;
    if (fault_fires(faults_.fail_call_at, faults_.fail_call_kind, call) ||
        (faults_.failures_persist && failed_before_ && kind_matches)) {
        failed_before_ = true;
        return fail(call, faults_.fail_error);
    }
    DecisionSource& decisions = sim_.decisions();
    if (decisions.chance(faults_.random_failures))
        return fail(call, decisions.choose(2) == 0 ? EIO : ENOSPC);
    return 0;
}

bool SimFilesystem::wait_for_sync(MountId mount) {
    if (faults_.sync_latency_ms_max == 0 || sim_.current_process_id() == 0)
        return true;
    const std::uint64_t ms =
        sim_.decisions().between(faults_.sync_latency_ms_min, faults_.sync_latency_ms_max);
    if (ms > 0)
        sim_.delay(std::chrono::milliseconds(ms));
    return live_mounts_.count(mount) != 0;  // not if its machine died meanwhile
}

void SimFilesystem::take_call_time(MountId mount) {
    if (faults_.call_latency_ms_max == 0 || sim_.current_process_id() == 0 ||
        live_mounts_.count(mount) == 0)
        return;
    const std::uint64_t ms =
        sim_.decisions().between(faults_.call_latency_ms_min, faults_.call_latency_ms_max);
    if (ms > 0)
        (void)sim_.take_time(std::chrono::milliseconds(ms));
}

void SimFilesystem::take_file_call_time(std::uint64_t handle) {
    if (faults_.call_latency_ms_max == 0)
        return;
    const auto it = handles_.find(handle);
    if (it != handles_.end())
        take_call_time(it->second.mount);
}

// --- directory calls ---

std::uint64_t SimFilesystem::create(std::string_view name, FsEntryType type) {
    const std::uint64_t id = next_inode_++;
    inodes_[id].type = type;
    set_entry(entries_, name, id);
    add_change(Change{"", std::string(name), id});
    return id;
}

FsStat SimFilesystem::stat_of(std::uint64_t inode) const {
    const Inode& file = inodes_.at(inode);
    return FsStat{file.type, file.bytes.size(), inode};
}

FsResult<std::unique_ptr<FsFile>> SimFilesystem::open(MountId mount, std::string_view name,
                                                      FsOpenMode mode) {
    take_call_time(mount);
    if (const int error = begin_call(FsCall::open, mount))
        return {nullptr, error};
    if (!is_one_path_component(name))
        return {nullptr, refused(sim_, FsCall::open, EINVAL)};
    std::uint64_t inode = 0;
    const auto it = entries_.find(name);
    if (it != entries_.end()) {
        if (mode == FsOpenMode::create_new)
            return {nullptr, refused(sim_, FsCall::open, EEXIST)};
        if (inodes_.at(it->second).type == FsEntryType::directory)
            return {nullptr, refused(sim_, FsCall::open, EISDIR)};
        inode = it->second;
    } else {
        if (mode == FsOpenMode::read)
            return {nullptr, refused(sim_, FsCall::open, ENOENT)};
        inode = create(name, FsEntryType::regular);
    }
    const std::uint64_t id = next_handle_++;
    handles_[id] = Handle{inode, mount, mode};
    hold(inode);
    sim_.record(TraceKind::fs_open, 0, Side::client, intern(name), inode);
    return {std::make_unique<SimFsFile>(*this, id), 0};
}

FsResult<FsStat> SimFilesystem::stat(MountId mount, std::string_view name) {
    take_call_time(mount);
    if (const int error = begin_call(FsCall::stat, mount))
        return {{}, error};
    if (!is_one_path_component(name))
        return {{}, refused(sim_, FsCall::stat, EINVAL)};
    const auto it = entries_.find(name);
    if (it == entries_.end())
        return {{}, refused(sim_, FsCall::stat, ENOENT)};
    sim_.record(TraceKind::fs_stat, 0, Side::client, intern(name), it->second);
    return {stat_of(it->second), 0};
}

FsResult<std::vector<std::string>> SimFilesystem::list(MountId mount) {
    take_call_time(mount);
    if (const int error = begin_call(FsCall::list, mount))
        return {{}, error};
    sim_.record(TraceKind::fs_list, 0, Side::client, entries_.size());
    return {names(), 0};
}

int SimFilesystem::rename(MountId mount, std::string_view from, std::string_view to) {
    take_call_time(mount);
    if (const int error = begin_call(FsCall::rename, mount))
        return error;
    if (!is_one_path_component(from) || !is_one_path_component(to))
        return refused(sim_, FsCall::rename, EINVAL);
    const auto source = entries_.find(from);
    if (source == entries_.end())
        return refused(sim_, FsCall::rename, ENOENT);
    const std::uint64_t inode = source->second;
    if (from != to) {
        const auto target = entries_.find(to);
        if (target != entries_.end()) {
            const bool source_is_dir = inodes_.at(inode).type == FsEntryType::directory;
            const bool target_is_dir = inodes_.at(target->second).type == FsEntryType::directory;
            if (target_is_dir && !source_is_dir)
                return refused(sim_, FsCall::rename, EISDIR);
            if (source_is_dir && !target_is_dir)
                return refused(sim_, FsCall::rename, ENOTDIR);
        }
        erase_entry(entries_, source);
        set_entry(entries_, to, inode);
        add_change(Change{std::string(from), std::string(to), inode});
        collect_garbage();
    }
    sim_.record(TraceKind::fs_rename, 0, Side::client, intern(from), intern(to));
    return 0;
}

int SimFilesystem::unlink(MountId mount, std::string_view name) {
    take_call_time(mount);
    if (const int error = begin_call(FsCall::unlink, mount))
        return error;
    if (!is_one_path_component(name))
        return refused(sim_, FsCall::unlink, EINVAL);
    const auto it = entries_.find(name);
    if (it == entries_.end())
        return refused(sim_, FsCall::unlink, ENOENT);
    if (inodes_.at(it->second).type == FsEntryType::directory)
        return refused(sim_, FsCall::unlink, EISDIR);
    add_change(Change{std::string(name), "", it->second});
    erase_entry(entries_, it);
    collect_garbage();
    sim_.record(TraceKind::fs_unlink, 0, Side::client, intern(name));
    return 0;
}

int SimFilesystem::sync_directory(MountId mount) {
    take_call_time(mount);
    if (const int error = begin_call(FsCall::sync_directory, mount))
        return error;
    if (!wait_for_sync(mount))
        return refused(sim_, FsCall::sync_directory, EIO);
    const std::uint64_t changes = changes_.size();
    make_changes_durable();
    sim_.record(TraceKind::fs_sync_dir, 0, Side::client, changes);
    return 0;
}

// --- calls on open files ---

const SimFilesystem::Handle* SimFilesystem::handle(std::uint64_t id, int& error) const {
    const auto it = handles_.find(id);
    if (it != handles_.end())
        return &it->second;
    // A revoked mount's files fail as its other calls do; a closed one's
    // with EBADF.
    error = dead_handles_.count(id) != 0 ? EIO : EBADF;
    return nullptr;
}

const SimFilesystem::Handle* SimFilesystem::start_file_call(std::uint64_t id, FsCall call,
                                                            int& error) {
    take_file_call_time(id);
    const Handle* open_file = handle(id, error);
    if (open_file == nullptr) {
        error = refused(sim_, call, error);
        return nullptr;
    }
    if ((error = begin_call(call, open_file->mount)) != 0)
        return nullptr;
    return open_file;
}

FsResult<std::size_t> SimFilesystem::write(std::uint64_t id, std::span<const std::byte> bytes) {
    int error = 0;
    const Handle* open_file = start_file_call(id, FsCall::write, error);
    if (open_file == nullptr)
        return {0, error};
    if (open_file->mode == FsOpenMode::read)
        return {0, refused(sim_, FsCall::write, EBADF)};
    if (bytes.empty())
        return {0, 0};
    std::size_t taken = bytes.size();
    if (faults_.capacity_bytes != 0) {
        const std::uint64_t free =
            faults_.capacity_bytes > used_bytes_ ? faults_.capacity_bytes - used_bytes_ : 0;
        if (free == 0)
            return {0, fail(FsCall::write, ENOSPC)};  // the disk is full
        taken = static_cast<std::size_t>(std::min<std::uint64_t>(taken, free));
    }
    Inode& inode = inodes_.at(open_file->inode);
    inode.bytes.append(bytes.first(taken));
    used_bytes_ += taken;
    sim_.record(TraceKind::fs_write, 0, Side::client, open_file->inode, taken);
    return {taken, 0};
}

FsResult<std::size_t> SimFilesystem::read_at(std::uint64_t id, std::uint64_t offset,
                                             std::span<std::byte> buffer) {
    int error = 0;
    const Handle* open_file = start_file_call(id, FsCall::read, error);
    if (open_file == nullptr)
        return {0, error};
    if (open_file->mode == FsOpenMode::create_new)
        return {0, refused(sim_, FsCall::read, EBADF)};
    const CompactBytes& bytes = inodes_.at(open_file->inode).bytes;
    if (offset >= bytes.size())
        return {0, 0};
    std::size_t got =
        static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), bytes.size() - offset));
    DecisionSource& decisions = sim_.decisions();
    if (got > 1 && decisions.chance(faults_.short_reads))
        got = static_cast<std::size_t>(decisions.between(1, got - 1));
    bytes.read(offset, buffer.first(got));
    sim_.record(TraceKind::fs_read, 0, Side::client, open_file->inode, got);
    return {got, 0};
}

int SimFilesystem::sync(std::uint64_t id) {
    int error = 0;
    const Handle* open_file = start_file_call(id, FsCall::sync, error);
    if (open_file == nullptr)
        return error;
    if (!wait_for_sync(open_file->mount))
        return refused(sim_, FsCall::sync, EIO);
    open_file = handle(id, error);  // only its owner closes it, but be sure
    if (open_file == nullptr)
        return refused(sim_, FsCall::sync, error);
    Inode& inode = inodes_.at(open_file->inode);
    inode.durable_bytes = inode.bytes.size();
    inode.durable_attributes = inode.attributes;
    sim_.record(TraceKind::fs_sync, 0, Side::client, open_file->inode, inode.durable_bytes);
    return 0;
}

FsResult<FsStat> SimFilesystem::stat_handle(std::uint64_t id) {
    int error = 0;
    const Handle* open_file = start_file_call(id, FsCall::stat, error);
    if (open_file == nullptr)
        return {{}, error};
    sim_.record(TraceKind::fs_stat, 0, Side::client, 0, open_file->inode);
    return {stat_of(open_file->inode), 0};
}

int SimFilesystem::try_lock(std::uint64_t id) {
    int error = 0;
    const Handle* open_file = start_file_call(id, FsCall::lock, error);
    if (open_file == nullptr)
        return error;
    Inode& inode = inodes_.at(open_file->inode);
    if (inode.lock_holder != 0 && inode.lock_holder != id)
        return refused(sim_, FsCall::lock, EWOULDBLOCK);
    inode.lock_holder = id;
    sim_.record(TraceKind::fs_lock, 0, Side::client, open_file->inode);
    return 0;
}

int SimFilesystem::close(std::uint64_t id, bool counted) {
    if (counted)
        take_file_call_time(id);
    if (dead_handles_.erase(id) != 0)
        return counted ? refused(sim_, FsCall::close, EIO) : EIO;
    const auto it = handles_.find(id);
    if (it == handles_.end())
        return counted ? refused(sim_, FsCall::close, EBADF) : EBADF;
    // A close that fails still closes, as close(2) does.
    const int error = counted ? begin_call(FsCall::close, it->second.mount) : 0;
    const auto still = handles_.find(id);  // a crash at this call revoked it
    if (still == handles_.end()) {
        dead_handles_.erase(id);
        return error;
    }
    const std::uint64_t inode = still->second.inode;
    if (inodes_.at(inode).lock_holder == id)
        inodes_.at(inode).lock_holder = 0;
    release(inode);
    handles_.erase(still);
    collect_garbage();
    sim_.record(TraceKind::fs_close, 0, Side::client, inode);
    return error;
}

FsResult<std::string> SimFilesystem::get_attribute(std::uint64_t id, std::string_view key) {
    int error = 0;
    const Handle* open_file = start_file_call(id, FsCall::get_attribute, error);
    if (open_file == nullptr)
        return {{}, error};
    const Inode& inode = inodes_.at(open_file->inode);
    const auto it = inode.attributes.find(key);
    if (it == inode.attributes.end())
        return {{}, refused(sim_, FsCall::get_attribute, ENODATA)};
    sim_.record(TraceKind::fs_get_attr, 0, Side::client, open_file->inode, it->second.size());
    return {it->second, 0};
}

int SimFilesystem::set_attribute(std::uint64_t id, std::string_view key, std::string_view value) {
    int error = 0;
    const Handle* open_file = start_file_call(id, FsCall::set_attribute, error);
    if (open_file == nullptr)
        return error;
    Inode& inode = inodes_.at(open_file->inode);
    inode.attributes[std::string(key)] = std::string(value);
    sim_.record(TraceKind::fs_set_attr, 0, Side::client, open_file->inode, value.size());
    return 0;
}

// --- for tests and checkers ---

std::vector<std::string> SimFilesystem::names() const {
    std::vector<std::string> names;
    names.reserve(entries_.size());
    for (const auto& [name, inode] : entries_)
        names.push_back(name);
    return names;
}

std::optional<std::vector<std::byte>> SimFilesystem::file(std::string_view name) const {
    const auto it = entries_.find(name);
    if (it == entries_.end() || inodes_.at(it->second).type != FsEntryType::regular)
        return std::nullopt;
    return inodes_.at(it->second).bytes.to_vector();
}

std::optional<CompactBytes> SimFilesystem::file_content(std::string_view name) const {
    const auto it = entries_.find(name);
    if (it == entries_.end() || inodes_.at(it->second).type != FsEntryType::regular)
        return std::nullopt;
    return inodes_.at(it->second).bytes;
}

std::optional<std::string> SimFilesystem::attribute(std::string_view name,
                                                    std::string_view key) const {
    const auto it = entries_.find(name);
    if (it == entries_.end())
        return std::nullopt;
    const Inode& inode = inodes_.at(it->second);
    const auto found = inode.attributes.find(key);
    if (found == inode.attributes.end())
        return std::nullopt;
    return found->second;
}

void SimFilesystem::put_durable_file(std::string_view name, std::span<const std::byte> bytes) {
    const std::uint64_t id = next_inode_++;
    Inode& inode = inodes_[id];
    inode.bytes = CompactBytes(bytes);
    inode.durable_bytes = inode.bytes.size();
    used_bytes_ += inode.bytes.size();
    put_durable_entry(name, id);
}

void SimFilesystem::put_directory(std::string_view name) {
    const std::uint64_t id = next_inode_++;
    inodes_[id].type = FsEntryType::directory;
    put_durable_entry(name, id);
}

}  // namespace ferry::sim

namespace ferry::sim {

void SimFilesystem::put_durable_entry(std::string_view name, std::uint64_t inode) {
    // Past the pending changes: replaying them onto the durable entries no
    // longer gives the readers' (see make_changes_durable).
    entries_diverged_ = entries_diverged_ || !changes_.empty();
    set_entry(entries_, name, inode);
    set_entry(durable_entries_, name, inode);
    collect_garbage();
}

void SimFilesystem::make_changes_durable() {
    if (entries_diverged_) {
        durable_entries_ = entries_;
        changes_.clear();
        entries_diverged_ = false;
        recount_references();
        return;
    }
    // The readers' entries are the durable ones with the pending changes
    // applied in order, so applying them is copying entries_, in the time of
    // the changes rather than of the whole directory.
    for (const Change& change : changes_)
        apply_durably(change);
    for (const Change& change : changes_)
        release(change.inode);
    changes_.clear();
    collect_garbage();
}

}  // namespace ferry::sim
