#pragma once
// Helpers shared by the real/ tests: temporary directories, random bytes,
// in-memory readers and sinks, connected socket pairs, and waiting for a
// condition without fixed sleeps.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ferry/protocol/ferry_client.h"
#include "ferry/protocol/store.h"
#include "ferry/real/steady_clock.h"
#include "ferry/real/tcp_connection.h"
#include "ferry/real/tcp_listener.h"

namespace ferry::testing {

using Bytes = std::vector<std::byte>;

/// A generous bound for anything a loaded 2-core machine must get done.
inline constexpr auto patience = std::chrono::seconds(30);

/// Polls condition until it holds or patience runs out; returns whether it held.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = patience) {
    const auto give_up = std::chrono::steady_clock::now() + limit;
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= give_up)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

/// Random bytes from a seeded generator, so a failure replays.
inline Bytes random_bytes(std::size_t size, std::uint64_t seed) {
    std::mt19937_64 generator(seed);
    Bytes bytes(size);
    std::size_t i = 0;
    while (i < size) {
        std::uint64_t word = generator();
        for (int k = 0; k < 8 && i < size; ++k, ++i) {
            bytes[i] = static_cast<std::byte>(word & 0xff);
            word >>= 8;
        }
    }
    return bytes;
}

inline Bytes to_bytes(std::string_view text) {
    const auto view = as_bytes(text);
    return Bytes(view.begin(), view.end());
}

/// A directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
  public:
    TempDir() {
        const char* base = std::getenv("TMPDIR");
        std::string pattern = std::string(base && *base ? base : "/tmp") + "/ferry-real-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp " + pattern + " failed");
        }
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

/// Every entry under dir (not following symlinks) with its type and, for
/// regular files, its contents: comparing two of these shows any change.
inline std::map<std::string, std::string> snapshot(const std::filesystem::path& dir) {
    std::map<std::string, std::string> entries;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
        const auto relative = std::filesystem::relative(entry.path(), dir).string();
        const auto status = entry.symlink_status();
        if (std::filesystem::is_symlink(status)) {
            entries[relative] =
                "symlink -> " + std::filesystem::read_symlink(entry.path()).string();
        } else if (std::filesystem::is_regular_file(status)) {
            std::ifstream in(entry.path(), std::ios::binary);
            entries[relative] = "file: " + std::string(std::istreambuf_iterator<char>(in), {});
        } else if (std::filesystem::is_directory(status)) {
            entries[relative] = "dir";
        } else {
            entries[relative] = "other";
        }
    }
    return entries;
}

/// Names of the entries directly in dir, sorted.
inline std::vector<std::string> entry_names(const std::filesystem::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

/// entry_names without the lock files an open DiskStore holds
/// (".ferry-lock-*"): what a store leaves behind for anyone else.
inline std::vector<std::string> stored_names(const std::filesystem::path& dir) {
    std::vector<std::string> names = entry_names(dir);
    std::erase_if(names, [](const std::string& name) { return name.starts_with(".ferry-lock-"); });
    return names;
}

inline bool has_temp_file(const std::filesystem::path& dir) {
    for (const auto& name : entry_names(dir)) {
        if (name.starts_with(".ferry-tmp-"))
            return true;
    }
    return false;
}

inline void write_file(const std::filesystem::path& path, std::span<const std::byte> bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    if (!out)
        throw std::runtime_error("cannot write " + path.string());
}

inline Bytes read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + path.string());
    std::string text(std::istreambuf_iterator<char>(in), {});
    return to_bytes(text);
}

/// A FileReader over bytes in memory (what FerryClient::put and naive_put read).
class BytesReader : public FileReader {
  public:
    explicit BytesReader(Bytes bytes) : bytes_(std::move(bytes)) {}
    std::uint64_t size_bytes() const override { return bytes_.size(); }
    std::size_t read_at(std::uint64_t offset, std::span<std::byte> buffer) const override {
        if (offset >= bytes_.size())
            return 0;
        const std::size_t count = std::min<std::uint64_t>(buffer.size(), bytes_.size() - offset);
        std::copy_n(bytes_.begin() + static_cast<std::ptrdiff_t>(offset), count, buffer.begin());
        return count;
    }

  private:
    Bytes bytes_;
};

class BytesSink : public ByteSink {
  public:
    void write(std::span<const std::byte> bytes) override {
        bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
    }
    const Bytes& bytes() const { return bytes_; }

  private:
    Bytes bytes_;
};

/// Reads a whole FileReader.
inline Bytes read_all(const FileReader& reader) {
    Bytes bytes(reader.size_bytes());
    std::uint64_t offset = 0;
    while (offset < bytes.size()) {
        const std::size_t got =
            reader.read_at(offset, std::span(bytes).subspan(static_cast<std::size_t>(offset)));
        if (got == 0)
            throw std::runtime_error("reader ended early");
        offset += got;
    }
    return bytes;
}

/// Two ends of one loopback TCP connection.
struct ConnectedPair {
    std::unique_ptr<TcpConnection> client;
    std::unique_ptr<TcpConnection> server;
};

inline ConnectedPair connected_pair(const std::string& host = "127.0.0.1") {
    const Clock& clock = SteadyClock::instance();
    TcpListener listener(HostPort{host, 0}, clock);
    ConnectedPair pair;
    pair.client = connect_tcp(listener.local_address(), clock, std::chrono::seconds(10));
    pair.server = listener.accept(std::chrono::seconds(10));
    if (!pair.server)
        throw std::runtime_error("accept timed out");
    return pair;
}

/// The ConnectionError that f throws, or none if it returns.
template <typename F>
std::optional<ConnectionError> connection_error(F&& f) {
    try {
        f();
    } catch (const ConnectionError& e) {
        return e;
    }
    return std::nullopt;
}

/// Receives until end of stream (or until max_bytes).
inline Bytes recv_to_end(Connection& conn, std::size_t max_bytes = 64 * 1024 * 1024) {
    Bytes all;
    std::byte buffer[16 * 1024];
    while (all.size() < max_bytes) {
        const std::size_t got = conn.recv(buffer);
        if (got == 0)
            break;
        all.insert(all.end(), buffer, buffer + got);
    }
    return all;
}

}  // namespace ferry::testing
