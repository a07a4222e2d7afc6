#pragma once
// An in-memory Store for simulations, shaped like a file system so faults
// have somewhere to land: an upload writes to a temporary file (unsynced),
// commit() fsyncs it, renames it into place and fsyncs the directory. Disk
// full, failing write/fsync/rename (StoreFaults) and a crash that drops every
// unsynced upload can be injected; every operation goes into the trace.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/store.h"
#include "sim/faults.h"

namespace ferry::sim {

class Simulation;

class SimStore final : public Store {
  public:
    explicit SimStore(Simulation& sim, StoreFaults faults = {});
    ~SimStore() override;

    std::unique_ptr<Upload> begin_upload(std::string_view name) override;
    std::unique_ptr<FileReader> open(std::string_view name) override;
    std::variant<std::unique_ptr<FileReader>, StoreFailure> try_open(
        std::string_view name) override;
    std::vector<FileInfo> list() override;

    /// The machine crashes and comes back: every upload in progress loses
    /// what it wrote (none of it was synced) and fails from now on; committed
    /// files survive, because commit() returns only once they are durable.
    void crash();

    /// Test helpers: a committed file whole, or put one directly.
    std::optional<std::vector<std::byte>> file(const std::string& name) const;
    void put_file(const std::string& name, std::vector<std::byte> bytes);
    std::optional<std::uint64_t> file_size(const std::string& name) const;
    /// Where committed file name first differs from expected, compared in
    /// place (no copy); none when they are equal. Name must exist.
    std::optional<std::uint64_t> first_difference(const std::string& name,
                                                  std::span<const std::byte> expected) const;
    /// Bytes written by uploads neither committed nor aborted.
    std::uint64_t pending_bytes() const { return pending_bytes_; }
    std::uint64_t uploads_in_progress() const { return uploads_in_progress_; }

    StoreFaults& faults() { return faults_; }

    struct Contents;  ///< a file's bytes (internal)

  private:
    class SimUpload;

    std::uint64_t used_bytes() const { return committed_bytes_ + pending_bytes_; }
    /// Counts an operation of a kind and says whether it fails.
    bool fails(std::uint64_t& count, std::uint64_t fail_at, bool& failed_before);
    void record_fault(std::string_view what, std::uint64_t upload);

    Simulation& sim_;
    StoreFaults faults_;
    std::map<std::string, std::shared_ptr<const Contents>, std::less<>> files_;
    std::uint64_t committed_bytes_ = 0;
    std::uint64_t pending_bytes_ = 0;
    std::uint64_t uploads_in_progress_ = 0;
    std::uint64_t next_upload_ = 1;
    std::uint64_t crashes_ = 0;  ///< uploads begun before a crash are dead
    std::uint64_t writes_ = 0, fsyncs_ = 0, renames_ = 0;
    bool write_failed_ = false, fsync_failed_ = false, rename_failed_ = false;
};

}  // namespace ferry::sim
