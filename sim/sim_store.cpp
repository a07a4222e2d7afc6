#include "sim/sim_store.h"

#include <algorithm>
#include <cstring>

#include <fmt/core.h>

#include "protocol/names.h"
#include "sim/simulation.h"

namespace ferry::sim {

/// A file's bytes in blocks that double in size as the file grows: no copying
/// to grow, and few allocations (a 2 KiB file is one block, 256 MiB written
/// 64 KiB at a time about twenty, not four thousand).
struct SimStore::Contents {
    struct Block {
        std::unique_ptr<std::byte[]> bytes;
        std::size_t capacity = 0;
        std::size_t used = 0;
    };
    std::vector<Block> blocks;
    std::uint64_t size_bytes = 0;

    static constexpr std::size_t block_bytes_max = 16 * 1024 * 1024;

    void append(std::span<const std::byte> bytes) {
        while (!bytes.empty()) {
            if (blocks.empty() || blocks.back().used == blocks.back().capacity) {
                const std::size_t previous = blocks.empty() ? 0 : blocks.back().capacity;
                const std::size_t capacity =
                    std::max(bytes.size(), std::min(2 * previous, block_bytes_max));
                blocks.push_back(
                    {std::make_unique_for_overwrite<std::byte[]>(capacity), capacity, 0});
            }
            Block& block = blocks.back();
            const std::size_t n = std::min(bytes.size(), block.capacity - block.used);
            std::memcpy(block.bytes.get() + block.used, bytes.data(), n);
            block.used += n;
            size_bytes += n;
            bytes = bytes.subspan(n);
        }
    }
    /// Up to max_bytes at offset, within one block.
    std::span<const std::byte> view_at(std::uint64_t offset, std::size_t max_bytes) const {
        std::uint64_t block_start = 0;
        for (const Block& block : blocks) {
            if (offset < block_start + block.used) {
                const std::size_t within = static_cast<std::size_t>(offset - block_start);
                return {block.bytes.get() + within, std::min(max_bytes, block.used - within)};
            }
            block_start += block.used;
        }
        return {};
    }
    std::size_t read_at(std::uint64_t offset, std::span<std::byte> buffer) const {
        std::size_t done = 0;
        while (done < buffer.size()) {
            const auto piece = view_at(offset + done, buffer.size() - done);
            if (piece.empty())
                break;
            std::memcpy(buffer.data() + done, piece.data(), piece.size());
            done += piece.size();
        }
        return done;
    }
};

namespace {

void require_valid_name(std::string_view name) {
    if (!is_valid_name(name)) {
        throw StoreError(StoreErrorKind::name_not_allowed,
                         fmt::format("name not allowed: \"{}\"", name));
    }
}

}  // namespace

class SimStore::SimUpload final : public Upload {
  public:
    SimUpload(SimStore& store, std::string name, std::uint64_t number)
        : store_(store), name_(std::move(name)), number_(number), crashes_(store.crashes_) {
        ++store_.uploads_in_progress_;
    }
    ~SimUpload() override { abort(); }

    StoreStatus try_write(std::span<const std::byte> bytes) override {
        if (StoreStatus unusable = check_usable("write"))
            return unusable;
        if (store_.fails(store_.writes_, store_.faults_.fail_write_at, store_.write_failed_))
            return fault_failure("write fails", StoreErrorKind::io, "I/O error writing");
        if (store_.faults_.capacity_bytes != 0 &&
            store_.used_bytes() + bytes.size() > store_.faults_.capacity_bytes) {
            return fault_failure("disk full", StoreErrorKind::disk_full, "disk full writing");
        }
        contents_->append(bytes);
        store_.pending_bytes_ += bytes.size();
        store_.sim_.record(TraceKind::store_write, 0, Side::server, number_, bytes.size());
        return std::nullopt;
    }

    StoreStatus try_commit() override {
        if (StoreStatus unusable = check_usable("commit"))
            return unusable;
        if (store_.fails(store_.fsyncs_, store_.faults_.fail_fsync_at, store_.fsync_failed_))
            return fault_failure("fsync fails", StoreErrorKind::io, "I/O error syncing");
        if (store_.fails(store_.renames_, store_.faults_.fail_rename_at, store_.rename_failed_))
            return fault_failure("rename fails", StoreErrorKind::io, "I/O error renaming into");
        const std::uint64_t size = contents_->size_bytes;
        finish();
        auto& slot = store_.files_[name_];
        if (slot)
            store_.committed_bytes_ -= slot->size_bytes;
        store_.committed_bytes_ += size;
        slot = std::move(contents_);
        store_.sim_.record(TraceKind::store_commit, 0, Side::server,
                           store_.sim_.trace().intern(name_), size);
        return std::nullopt;
    }

    void abort() noexcept override {
        if (done_)
            return;
        const std::uint64_t size = contents_->size_bytes;
        const bool recorded = alive();
        finish();
        contents_.reset();
        if (recorded)
            store_.sim_.record(TraceKind::store_abort, 0, Side::server, number_, size);
    }

  private:
    bool alive() const { return crashes_ == store_.crashes_; }

    /// Records the injected fault and returns the failure it causes; out of
    /// line, to keep the write and commit paths small.
    [[gnu::noinline]] StoreFailure fault_failure(const char* fault, StoreErrorKind kind,
                                                 std::string_view what) {
        store_.record_fault(fault, number_);
        return StoreFailure{kind, fmt::format("{} \"{}\"", what, name_)};
    }

    StoreStatus check_usable(const char* call) const {
        if (done_) {
            return StoreFailure{StoreErrorKind::io,
                                fmt::format("{} of \"{}\" after commit or abort", call, name_)};
        }
        if (!alive()) {
            return StoreFailure{StoreErrorKind::io,
                                fmt::format("{} of \"{}\": lost in a crash", call, name_)};
        }
        return std::nullopt;
    }

    /// No longer in progress: its bytes stop counting as pending.
    void finish() {
        done_ = true;
        if (!alive())
            return;  // the crash already forgot it
        store_.pending_bytes_ -= contents_->size_bytes;
        --store_.uploads_in_progress_;
    }

    SimStore& store_;
    std::string name_;
    std::uint64_t number_;
    std::uint64_t crashes_;
    std::shared_ptr<Contents> contents_ = std::make_shared<Contents>();
    bool done_ = false;
};

SimStore::SimStore(Simulation& sim, StoreFaults faults) : sim_(sim), faults_(faults) {}

SimStore::~SimStore() = default;

bool SimStore::fails(std::uint64_t& count, std::uint64_t fail_at, bool& failed_before) {
    ++count;
    if (fail_at == 0)
        return false;
    if (count == fail_at || (faults_.failures_persist && failed_before)) {
        failed_before = true;
        return true;
    }
    return false;
}

void SimStore::record_fault(std::string_view what, std::uint64_t upload) {
    sim_.record(TraceKind::store_fault, 0, Side::server, sim_.trace().intern(what), upload);
}

std::unique_ptr<Upload> SimStore::begin_upload(std::string_view name) {
    require_valid_name(name);
    const std::uint64_t number = next_upload_++;
    sim_.record(TraceKind::store_begin, 0, Side::server, sim_.trace().intern(name), number);
    return std::make_unique<SimUpload>(*this, std::string(name), number);
}

namespace {

class SimFileReader final : public FileReader {
  public:
    explicit SimFileReader(std::shared_ptr<const SimStore::Contents> contents)
        : contents_(std::move(contents)) {}
    std::uint64_t size_bytes() const override { return contents_->size_bytes; }
    std::size_t read_at(std::uint64_t offset, std::span<std::byte> buffer) const override {
        return contents_->read_at(offset, buffer);
    }
    std::span<const std::byte> view_at(std::uint64_t offset, std::size_t max_bytes) const override {
        return contents_->view_at(offset, max_bytes);
    }

  private:
    std::shared_ptr<const SimStore::Contents> contents_;
};

}  // namespace

std::unique_ptr<FileReader> SimStore::open(std::string_view name) {
    auto opened = try_open(name);
    if (auto* failure = std::get_if<StoreFailure>(&opened))
        throw StoreError(*failure);
    return std::move(std::get<std::unique_ptr<FileReader>>(opened));
}

std::variant<std::unique_ptr<FileReader>, StoreFailure> SimStore::try_open(std::string_view name) {
    if (!is_valid_name(name))
        return StoreFailure{StoreErrorKind::name_not_allowed,
                            fmt::format("name not allowed: {:?}", name)};
    auto it = files_.find(name);
    const std::uint64_t name_id = sim_.trace().intern(name);
    if (it == files_.end()) {
        sim_.record(TraceKind::store_open, 0, Side::server, name_id, ~std::uint64_t{0});
        return StoreFailure{StoreErrorKind::not_found, fmt::format("no such file: \"{}\"", name)};
    }
    sim_.record(TraceKind::store_open, 0, Side::server, name_id, it->second->size_bytes);
    return std::make_unique<SimFileReader>(it->second);
}

std::vector<FileInfo> SimStore::list() {
    std::vector<FileInfo> files;
    files.reserve(files_.size());
    for (const auto& [name, contents] : files_)
        files.push_back({name, contents->size_bytes});
    sim_.record(TraceKind::store_list, 0, Side::server, files.size());
    return files;
}

void SimStore::crash() {
    sim_.record(TraceKind::store_crash, 0, Side::server, uploads_in_progress_);
    ++crashes_;
    pending_bytes_ = 0;
    uploads_in_progress_ = 0;
}

std::optional<std::vector<std::byte>> SimStore::file(const std::string& name) const {
    auto it = files_.find(name);
    if (it == files_.end())
        return std::nullopt;
    std::vector<std::byte> bytes(it->second->size_bytes);
    it->second->read_at(0, bytes);
    return bytes;
}

std::optional<std::uint64_t> SimStore::first_difference(const std::string& name,
                                                        std::span<const std::byte> expected) const {
    const Contents& contents = *files_.at(name);
    std::uint64_t offset = 0;
    for (const Contents::Block& block : contents.blocks) {
        const std::span<const std::byte> bytes(block.bytes.get(), block.used);
        const std::size_t common = std::min<std::uint64_t>(bytes.size(), expected.size() - offset);
        // memcmp first: std::mismatch on std::byte compares a byte at a time.
        if (common != 0 && std::memcmp(bytes.data(), expected.data() + offset, common) != 0) {
            const auto differ =
                std::mismatch(bytes.begin(), bytes.begin() + common, expected.begin() + offset);
            return offset + static_cast<std::uint64_t>(differ.first - bytes.begin());
        }
        offset += common;
        if (common < bytes.size())
            return offset;  // expected ends inside this block
    }
    if (offset < expected.size())
        return offset;
    return std::nullopt;
}

std::optional<std::uint64_t> SimStore::file_size(const std::string& name) const {
    auto it = files_.find(name);
    if (it == files_.end())
        return std::nullopt;
    return it->second->size_bytes;
}

void SimStore::put_file(const std::string& name, std::vector<std::byte> bytes) {
    auto contents = std::make_shared<Contents>();
    contents->append(bytes);
    auto& slot = files_[name];
    if (slot)
        committed_bytes_ -= slot->size_bytes;
    committed_bytes_ += contents->size_bytes;
    slot = std::move(contents);
}

}  // namespace ferry::sim
