// ferry's real transfers against raw loopback doing the same work at the
// least, over 127.0.0.1, in the same process, at three chunk sizes:
//
//   BM_RealPut256MiB against BM_RawLoopbackIntoFile256MiB: an upload from
//     memory into a file on the store's filesystem (tmpfs), synced. The ferry
//     side does everything a real upload does: the client streams the file
//     (PUTS), hashing it as it goes; the server receives, hashes and writes it to a
//     DiskStore, fsyncs, renames, and acknowledges.
//   BM_RealPutClassic256MiB: the same upload with PUT (a digest pass, then
//     the bytes), the form clients used before PUTS.
//   BM_RealGet256MiB against BM_RawLoopbackFromFile256MiB: a download of a
//     file on that filesystem to a receiver that keeps nothing.
//   BM_RawLoopbackFromFileHashed256MiB: the same download with the receiver
//     hashing what it gets, as a download that verifies its bytes must (ferry
//     get checks the digest of every byte it receives).
//   BM_RawLoopback256MiB: memory to memory, writing nothing: this machine's
//     loopback, the ceiling of both.
//
//   BM_HashingOnAThreadPairedWithRaw256MiB: a raw download that hashes on a
//     second thread against one that keeps nothing: how near a download that
//     checks every byte can come to one that does not, on this machine.
//   BM_PutPairedWithRaw256MiB, BM_PutPairedWithHashingRaw256MiB,
//   BM_GetPairedWithRaw256MiB and BM_GetPairedWithHashingRaw256MiB (raw
//   doing ferry's hashing too): ferry and its raw counterpart one after
//     the other in every iteration (each first in turn), reporting
//     ferry_over_raw. On a machine whose speed swings from second to second
//     these are the figures of record: benchmarks run apart meet different
//     swings.
//
// bench/report.py runs them in rounds and prints every ratio in one table.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/bench_support.h"
#include "ferry/protocol/chunk_buffer.h"
#include "ferry/protocol/digest.h"
#include "ferry/protocol/ferry_client.h"
#include "ferry/real/disk_store.h"
#include "ferry/real/server.h"
#include "ferry/real/steady_clock.h"
#include "ferry/real/tcp_listener.h"

namespace ferry::bench {
namespace {

constexpr std::size_t payload_bytes = 256 * mib;

const std::vector<std::byte>& payload() {
    static const std::vector<std::byte> bytes = random_bytes(payload_bytes, 42);
    return bytes;
}

/// Writes the payload to path, as a file ferry's store or a raw sender reads.
void write_payload(const std::filesystem::path& path) {
    const int file = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (file < 0 ||
        ::write(file, payload().data(), payload_bytes) != static_cast<ssize_t>(payload_bytes))
        throw std::system_error(errno, std::generic_category(), "writing the payload");
    ::close(file);
}

/// A Store that keeps nothing: uploads are hashed and acknowledged by the
/// server as usual, but their bytes go nowhere. Takes the disk out of the
/// measurement, to show what the network and the protocol cost alone.
class NullStore : public Store {
  public:
    std::unique_ptr<Upload> begin_upload(std::string_view) override {
        return std::make_unique<NullUpload>();
    }
    std::unique_ptr<FileReader> open(std::string_view name) override {
        throw StoreError(StoreErrorKind::not_found, std::string(name));
    }
    std::vector<FileInfo> list() override { return {}; }

  private:
    struct NullUpload : Upload {
        StoreStatus try_write(std::span<const std::byte> bytes) override {
            benchmark::DoNotOptimize(bytes);
            return std::nullopt;
        }
        StoreStatus try_commit() override { return std::nullopt; }
        void abort() noexcept override {}
    };
};

enum class StoreKind { disk, null };

/// A ferry/1 server on 127.0.0.1 with a DiskStore on tmpfs (or a NullStore),
/// running in this process on its own thread.
class InProcessServer {
  public:
    InProcessServer(std::size_t chunk_bytes, StoreKind kind)
        : store_(kind == StoreKind::disk ? std::unique_ptr<Store>(new DiskStore(dir_.path()))
                                         : std::unique_ptr<Store>(new NullStore)),
          listener_(HostPort{"127.0.0.1", 0}, SteadyClock::instance()),
          server_(listener_, *store_, config(chunk_bytes)),
          thread_([this] { server_.run(); }) {}
    ~InProcessServer() {
        server_.stop();
        thread_.join();
    }
    HostPort address() const { return listener_.local_address(); }
    const std::filesystem::path& root() const { return dir_.path(); }

  private:
    static ServerConfig config(std::size_t chunk_bytes) {
        ServerConfig config;
        config.ferry.chunk_bytes = chunk_bytes;
        return config;
    }

    ScratchDir dir_;
    std::unique_ptr<Store> store_;
    TcpListener listener_;
    Server server_;
    std::thread thread_;
};

/// Where a benchmarked GET's bytes go: nowhere (the client still checks
/// their digest).
struct DiscardingSink : ByteSink {
    void write(std::span<const std::byte> bytes) override {
        benchmark::DoNotOptimize(bytes.data());
    }
};

enum class PutForm { streamed, classic };

/// One upload of reader as name: PUTS, as ferry put sends it, or PUT (the
/// digest pass first, as before PUTS).
TransferResult upload_once(FerryClient& client, const std::string& name, const FileReader& reader,
                           PutForm form) {
    if (form == PutForm::classic)
        return client.put(name, reader);
    FileSource source(reader);
    PutOutcome outcome = client.try_put_streamed(name, source);
    if (const auto* refusal = std::get_if<Refusal>(&outcome))
        throw RemoteError(refusal->code, refusal->line);
    return std::get<TransferResult>(outcome);
}

void put_256mib(benchmark::State& state, StoreKind kind, PutForm form = PutForm::streamed) {
    const auto chunk_bytes = static_cast<std::size_t>(state.range(0));
    const MemoryFileReader reader(payload());
    InProcessServer server(chunk_bytes, kind);
    std::uint64_t upload = 0;
    for (auto _ : state) {
        // A new name each time, deleted untimed: replacing one file would
        // time the kernel freeing the previous 256 MiB inside the rename.
        const std::string name = "bench-" + std::to_string(++upload) + ".bin";
        auto conn = connect_tcp(server.address(), SteadyClock::instance());
        FerryClient client(*conn, chunk_bytes);
        TransferResult result = upload_once(client, name, reader, form);
        benchmark::DoNotOptimize(result);
        conn->close();
        if (result.size_bytes != payload_bytes)
            state.SkipWithError("short upload");
        if (kind == StoreKind::disk) {
            state.PauseTiming();
            std::filesystem::remove(server.root() / name);
            state.ResumeTiming();
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * payload_bytes));
}

void BM_RealPut256MiB(benchmark::State& state) {
    put_256mib(state, StoreKind::disk);
}

/// The same upload with PUT, which reads the file twice: the form before PUTS.
void BM_RealPutClassic256MiB(benchmark::State& state) {
    put_256mib(state, StoreKind::disk, PutForm::classic);
}

/// The same upload into a NullStore: ferry without the disk.
void BM_RealPut256MiBNullStore(benchmark::State& state) {
    put_256mib(state, StoreKind::null);
}

[[noreturn]] void fail(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

/// A listening socket on 127.0.0.1 and its address.
struct RawListener {
    int fd = -1;
    sockaddr_in address{};
    RawListener() {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            fail("socket");
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
            ::listen(fd, 1) != 0 ||
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
            fail("bind/listen");
        }
    }
    ~RawListener() { ::close(fd); }
    RawListener(const RawListener&) = delete;
    RawListener& operator=(const RawListener&) = delete;
};

/// Receives until payload_bytes came or the stream ended, handing each piece
/// to keep (which may be nothing); returns the bytes received.
template <typename Keep>
std::uint64_t receive_all(int fd, std::size_t chunk_bytes, Keep keep) {
    std::vector<std::byte> buffer(chunk_bytes);
    std::uint64_t received = 0;
    while (received < payload_bytes) {
        const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        keep(std::span(buffer).first(static_cast<std::size_t>(n)));
        received += static_cast<std::uint64_t>(n);
    }
    return received;
}

/// Sends the payload a chunk at a time, first hashing each into digest when
/// one is given (as an upload that sends its digest must).
void send_from_memory(int fd, std::size_t chunk_bytes, Digest* digest = nullptr) {
    const std::vector<std::byte>& bytes = payload();
    for (std::size_t sent = 0; sent < payload_bytes;) {
        const std::size_t want = std::min(chunk_bytes, payload_bytes - sent);
        if (digest)
            digest->update(std::span(bytes).subspan(sent, want));
        const ssize_t n = ::send(fd, bytes.data() + sent, want, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        sent += static_cast<std::size_t>(n);
    }
}

/// Receives into a new file at path and syncs it, as a raw upload's
/// receiver, hashing what it gets into digest when one is given; returns
/// the bytes received. The caller removes the file, untimed, as ferry's
/// uploads are removed.
std::uint64_t receive_into_file(int fd, std::size_t chunk_bytes, const std::string& path,
                                Digest* digest = nullptr) {
    const int file = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (file < 0)
        fail("open");
    const std::uint64_t received = receive_all(fd, chunk_bytes, [&](auto piece) {
        if (digest)
            digest->update(piece);
        if (::write(file, piece.data(), piece.size()) != static_cast<ssize_t>(piece.size()))
            fail("write");
    });
    ::fsync(file);
    ::close(file);
    return received;
}

/// Receives and keeps nothing; returns the bytes received.
std::uint64_t receive_discarding(int fd, std::size_t chunk_bytes) {
    return receive_all(fd, chunk_bytes, [](auto piece) { benchmark::DoNotOptimize(piece.data()); });
}

/// Receives and hashes what it gets (ferry's digest, XXH3-128), keeping
/// nothing else; returns the bytes received.
std::uint64_t receive_hashing(int fd, std::size_t chunk_bytes) {
    Digest digest;
    const std::uint64_t received =
        receive_all(fd, chunk_bytes, [&](auto piece) { digest.update(piece); });
    benchmark::DoNotOptimize(digest.hex());
    return received;
}

/// Receives as receive_hashing does, but hashes on a second thread: the
/// receiver fills one half of a buffer (four recvs of chunk_bytes at most)
/// while the hasher hashes the other. What ferry get could reach by moving
/// its digest off the receiving thread.
std::uint64_t receive_hashing_on_a_thread(int fd, std::size_t chunk_bytes) {
    constexpr std::size_t recvs_per_half = 4;
    std::vector<std::byte> halves[2] = {std::vector<std::byte>(recvs_per_half * chunk_bytes),
                                        std::vector<std::byte>(recvs_per_half * chunk_bytes)};
    std::mutex mutex;
    std::condition_variable changed;
    std::size_t handed = 0;  // bytes of the half handed over; 0: the hasher is idle
    int handed_half = 0;
    bool finished = false;
    Digest digest;
    std::thread hasher([&] {
        std::unique_lock lock(mutex);
        for (;;) {
            changed.wait(lock, [&] { return handed != 0 || finished; });
            if (handed == 0)
                return;
            const std::span<const std::byte> piece(halves[handed_half].data(), handed);
            lock.unlock();
            digest.update(piece);
            lock.lock();
            handed = 0;
            changed.notify_all();
        }
    });
    std::uint64_t received = 0;
    for (int half = 0; received < payload_bytes; half ^= 1) {
        std::size_t filled = 0;
        for (std::size_t i = 0; i < recvs_per_half && received < payload_bytes; ++i) {
            const ssize_t n = ::recv(fd, halves[half].data() + filled, chunk_bytes, 0);
            if (n <= 0)
                break;
            filled += static_cast<std::size_t>(n);
            received += static_cast<std::uint64_t>(n);
        }
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return handed == 0; });
        if (filled == 0)
            break;
        handed = filled;
        handed_half = half;
        changed.notify_all();
    }
    {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return handed == 0; });
        finished = true;
        changed.notify_all();
    }
    hasher.join();
    benchmark::DoNotOptimize(digest.hex());
    return received;
}

/// One raw transfer over a fresh loopback connection to listener: send(fd)
/// sends, receive(fd) receives (on a thread of its own) and returns the
/// count, which this returns.
template <typename Send, typename Receive>
std::uint64_t raw_transfer(const RawListener& listener, Send& send, Receive& receive) {
    const int send_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (send_fd < 0 || ::connect(send_fd, reinterpret_cast<const sockaddr*>(&listener.address),
                                 sizeof listener.address) != 0) {
        fail("connect");
    }
    const int recv_fd = ::accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (recv_fd < 0)
        fail("accept");
    std::uint64_t received = 0;
    std::thread receiver([&] { received = receive(recv_fd); });
    send(send_fd);
    ::shutdown(send_fd, SHUT_WR);
    receiver.join();
    ::close(send_fd);
    ::close(recv_fd);
    return received;
}

/// One raw transfer of payload_bytes per iteration (raw_transfer), then
/// after(), untimed.
template <typename Send, typename Receive, typename After = void (*)()>
void raw_transfers(
    benchmark::State& state, Send send, Receive receive, After after = [] {}) {
    RawListener listener;
    for (auto _ : state) {
        if (raw_transfer(listener, send, receive) != payload_bytes)
            state.SkipWithError("short transfer");
        state.PauseTiming();
        after();
        state.ResumeTiming();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * payload_bytes));
}

/// Memory to memory over loopback: what this machine's loopback carries at
/// all, writing nothing anywhere.
void BM_RawLoopback256MiB(benchmark::State& state) {
    const auto chunk_bytes = static_cast<std::size_t>(state.range(0));
    raw_transfers(
        state, [&](int fd) { send_from_memory(fd, chunk_bytes); },
        [&](int fd) {
            return receive_all(fd, chunk_bytes,
                               [](auto piece) { benchmark::DoNotOptimize(piece.data()); });
        });
}

/// What ferry put does at the least: the bytes over loopback into a file on
/// the filesystem ferry's store uses, synced. ferry put is compared with it.
void BM_RawLoopbackIntoFile256MiB(benchmark::State& state) {
    const auto chunk_bytes = static_cast<std::size_t>(state.range(0));
    ScratchDir dir;
    const std::string path = (dir.path() / "raw-into.bin").string();
    raw_transfers(
        state, [&](int fd) { send_from_memory(fd, chunk_bytes); },
        [&](int fd) { return receive_into_file(fd, chunk_bytes, path); },
        [&] { ::unlink(path.c_str()); });
}

/// A file on that filesystem sent over loopback with sendfile, as ferry get's
/// server sends it.
void send_file_over(int fd, const std::filesystem::path& path) {
    const int file = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (file < 0)
        fail("open");
    off_t offset = 0;
    while (static_cast<std::size_t>(offset) < payload_bytes) {
        const ssize_t n =
            ::sendfile(fd, file, &offset, payload_bytes - static_cast<std::size_t>(offset));
        if (n <= 0 && errno != EINTR)
            fail("sendfile");
    }
    ::close(file);
}

/// Downloads of a file on the store's filesystem, sent with sendfile, to
/// receive(fd, chunk_bytes), which returns the bytes it received.
template <typename Receive>
void raw_downloads(benchmark::State& state, Receive receive) {
    const auto chunk_bytes = static_cast<std::size_t>(state.range(0));
    ScratchDir dir;
    const std::filesystem::path path = dir.path() / "raw-from.bin";
    write_payload(path);
    raw_transfers(
        state, [&](int fd) { send_file_over(fd, path); },
        [&](int fd) { return receive(fd, chunk_bytes); });
}

/// What ferry get does at the least: a file on that filesystem sent over
/// loopback (sendfile) to a receiver that keeps nothing.
void BM_RawLoopbackFromFile256MiB(benchmark::State& state) {
    raw_downloads(state, receive_discarding);
}

/// The same with the receiver checking what it got, as any download that
/// verifies its bytes must: it hashes them (ferry's digest, XXH3-128).
void BM_RawLoopbackFromFileHashed256MiB(benchmark::State& state) {
    raw_downloads(state, receive_hashing);
}

/// ferry get of a 256 MiB file the server's DiskStore holds (on tmpfs), into
/// a sink that keeps nothing (the client still checks the digest). The file
/// is written there directly, with no digest kept: the first GET hashes it
/// and keeps one; every later GET sends the kept digest and the file in one
/// pass, with sendfile (docs/storage.md).
void BM_RealGet256MiB(benchmark::State& state) {
    const auto chunk_bytes = static_cast<std::size_t>(state.range(0));
    InProcessServer server(chunk_bytes, StoreKind::disk);
    write_payload(server.root() / "held.bin");
    DiscardingSink sink;
    for (auto _ : state) {
        auto conn = connect_tcp(server.address(), SteadyClock::instance());
        FerryClient client(*conn, chunk_bytes);
        const TransferResult result = client.get("held.bin", sink);
        conn->close();
        if (result.size_bytes != payload_bytes)
            state.SkipWithError("short download");
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * payload_bytes));
}

/// The wall time of body(), in seconds.
template <typename Body>
double seconds_of(Body&& body) {
    const auto started = std::chrono::steady_clock::now();
    body();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

/// ferry() and raw() once each per iteration, each first in turn, timed one
/// by one, then after() untimed: on a machine whose speed swings from one
/// second to the next, both sides of the ratio meet the same swings.
/// Reports ferry_over_raw, ferry's speed as a fraction of raw's (raw's total
/// time over ferry's), and both sides' time per transfer.
template <typename Ferry, typename Raw, typename After>
void paired(benchmark::State& state, Ferry ferry, Raw raw, After after) {
    double ferry_seconds = 0;
    double raw_seconds = 0;
    bool ferry_first = true;
    for (auto _ : state) {
        if (ferry_first)
            ferry_seconds += seconds_of(ferry);
        raw_seconds += seconds_of(raw);
        if (!ferry_first)
            ferry_seconds += seconds_of(ferry);
        ferry_first = !ferry_first;
        state.PauseTiming();
        after();
        state.ResumeTiming();
    }
    const auto n = static_cast<double>(state.iterations());
    state.counters["ferry_over_raw"] = raw_seconds / ferry_seconds;
    state.counters["ferry_ms"] = ferry_seconds / n * 1000;
    state.counters["raw_ms"] = raw_seconds / n * 1000;
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * 2 * payload_bytes));
}

/// ferry get (as BM_RealGet256MiB) paired with a raw download of the same
/// file to receive(fd, chunk_bytes).
template <typename Receive>
void get_paired(benchmark::State& state, Receive receive_with_chunk) {
    const auto chunk_bytes = static_cast<std::size_t>(state.range(0));
    InProcessServer server(chunk_bytes, StoreKind::disk);
    const std::filesystem::path path = server.root() / "held.bin";
    write_payload(path);
    DiscardingSink sink;
    const auto ferry_get = [&] {
        auto conn = connect_tcp(server.address(), SteadyClock::instance());
        FerryClient client(*conn, chunk_bytes);
        if (client.get("held.bin", sink).size_bytes != payload_bytes)
            state.SkipWithError("short download");
        conn->close();
    };
    ferry_get();  // the first GET hashes the file and keeps its digest
    RawListener listener;
    auto send = [&](int fd) { send_file_over(fd, path); };
    auto receive = [&](int fd) { return receive_with_chunk(fd, chunk_bytes); };
    paired(
        state, ferry_get,
        [&] {
            if (raw_transfer(listener, send, receive) != payload_bytes)
                state.SkipWithError("short transfer");
        },
        [] {});
}

/// ferry get paired with a raw download that keeps nothing (as
/// BM_RawLoopbackFromFile256MiB): the figure for get.
void BM_GetPairedWithRaw256MiB(benchmark::State& state) {
    get_paired(state, receive_discarding);
}

/// ferry get paired with a raw download that hashes what it gets (as
/// BM_RawLoopbackFromFileHashed256MiB): the same work, since ferry get checks
/// the digest of every byte.
void BM_GetPairedWithHashingRaw256MiB(benchmark::State& state) {
    get_paired(state, receive_hashing);
}

/// A raw download hashing on a second thread, paired with one that keeps
/// nothing (reported as ferry_over_raw): whether a download that checks
/// every byte can keep up with one that does not, on this machine.
void BM_HashingOnAThreadPairedWithRaw256MiB(benchmark::State& state) {
    const auto chunk_bytes = static_cast<std::size_t>(state.range(0));
    ScratchDir dir;
    const std::filesystem::path path = dir.path() / "raw-from.bin";
    write_payload(path);
    RawListener listener;
    auto send = [&](int fd) { send_file_over(fd, path); };
    auto threaded = [&](int fd) { return receive_hashing_on_a_thread(fd, chunk_bytes); };
    auto plain = [&](int fd) { return receive_discarding(fd, chunk_bytes); };
    paired(
        state, [&] { benchmark::DoNotOptimize(raw_transfer(listener, send, threaded)); },
        [&] { benchmark::DoNotOptimize(raw_transfer(listener, send, plain)); }, [] {});
}

/// ferry put (as BM_RealPut256MiB) paired with a raw upload into a file on
/// the same filesystem (as BM_RawLoopbackIntoFile256MiB), hashing at both
/// ends when raw_hashes. Both files are removed untimed.
void put_paired(benchmark::State& state, bool raw_hashes) {
    const auto chunk_bytes = static_cast<std::size_t>(state.range(0));
    const MemoryFileReader reader(payload());
    InProcessServer server(chunk_bytes, StoreKind::disk);
    const std::string raw_path = (server.root() / "raw-into.bin").string();
    RawListener listener;
    Digest sent;
    Digest received;
    auto send = [&](int fd) { send_from_memory(fd, chunk_bytes, raw_hashes ? &sent : nullptr); };
    auto receive = [&](int fd) {
        return receive_into_file(fd, chunk_bytes, raw_path, raw_hashes ? &received : nullptr);
    };
    paired(
        state,
        [&] {
            auto conn = connect_tcp(server.address(), SteadyClock::instance());
            FerryClient client(*conn, chunk_bytes);
            if (upload_once(client, "put.bin", reader, PutForm::streamed).size_bytes !=
                payload_bytes)
                state.SkipWithError("short upload");
            conn->close();
        },
        [&] {
            if (raw_transfer(listener, send, receive) != payload_bytes)
                state.SkipWithError("short transfer");
        },
        [&] {
            std::filesystem::remove(server.root() / "put.bin");
            std::filesystem::remove(raw_path);
        });
    benchmark::DoNotOptimize(sent.hex() == received.hex());
}

/// The figure for put.
void BM_PutPairedWithRaw256MiB(benchmark::State& state) {
    put_paired(state, false);
}

/// ferry put paired with a raw upload that does the same hashing: the
/// sender hashes what it sends, the receiver what it writes, as an upload
/// that checks its bytes end to end must.
void BM_PutPairedWithHashingRaw256MiB(benchmark::State& state) {
    put_paired(state, true);
}

// Where ferry's time goes, one stage at a time (no network): what writing the
// upload to tmpfs costs the server, and what the client's digest pass (a full
// read of the file before the first byte is sent) costs the client.

void BM_TmpfsWrite256MiB(benchmark::State& state) {
    const auto chunk_bytes = static_cast<std::size_t>(state.range(0));
    const std::vector<std::byte>& bytes = payload();
    ScratchDir dir;
    const std::string path = (dir.path() / "write.bin").string();
    for (auto _ : state) {
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
            fail("open");
        for (std::size_t done = 0; done < payload_bytes;) {
            const std::size_t want = std::min(chunk_bytes, payload_bytes - done);
            const ssize_t n = ::write(fd, bytes.data() + done, want);
            if (n <= 0)
                fail("write");
            done += static_cast<std::size_t>(n);
        }
        ::fsync(fd);
        ::close(fd);
        state.PauseTiming();
        ::unlink(path.c_str());
        state.ResumeTiming();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * payload_bytes));
}

void BM_DigestPass256MiB(benchmark::State& state) {
    const auto chunk_bytes = static_cast<std::size_t>(state.range(0));
    const MemoryFileReader reader(payload());
    ChunkBuffer buffer(chunk_bytes);
    for (auto _ : state) {
        // As the client does it: in place when the file is in memory.
        Digest digest;
        for (std::uint64_t offset = 0; offset < payload_bytes;) {
            const auto piece = read_piece(reader, offset, payload_bytes - offset, buffer);
            digest.update(piece);
            offset += piece.size();
        }
        std::string hex = digest.hex();
        benchmark::DoNotOptimize(hex);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * payload_bytes));
}

void chunk_sizes(benchmark::internal::Benchmark* bench) {
    bench->ArgName("chunk_bytes");
    for (const std::int64_t chunk : {64 * 1024, 256 * 1024, 1024 * 1024})
        bench->Arg(chunk);
    bench->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(2.0);
}

BENCHMARK(BM_RealPut256MiB)->Apply(chunk_sizes);
BENCHMARK(BM_RealPutClassic256MiB)->Apply(chunk_sizes);
BENCHMARK(BM_RawLoopback256MiB)->Apply(chunk_sizes);
BENCHMARK(BM_RawLoopbackIntoFile256MiB)->Apply(chunk_sizes);
BENCHMARK(BM_RealGet256MiB)->Apply(chunk_sizes);
BENCHMARK(BM_RawLoopbackFromFile256MiB)->Apply(chunk_sizes);
BENCHMARK(BM_RawLoopbackFromFileHashed256MiB)->Apply(chunk_sizes);
BENCHMARK(BM_GetPairedWithRaw256MiB)->Apply(chunk_sizes);
BENCHMARK(BM_GetPairedWithHashingRaw256MiB)->Apply(chunk_sizes);
BENCHMARK(BM_HashingOnAThreadPairedWithRaw256MiB)->Apply(chunk_sizes);
BENCHMARK(BM_PutPairedWithRaw256MiB)->Apply(chunk_sizes);
BENCHMARK(BM_PutPairedWithHashingRaw256MiB)->Apply(chunk_sizes);
BENCHMARK(BM_RealPut256MiBNullStore)->Apply(chunk_sizes);
BENCHMARK(BM_TmpfsWrite256MiB)->Apply(chunk_sizes);
BENCHMARK(BM_DigestPass256MiB)->Apply(chunk_sizes);

}  // namespace
}  // namespace ferry::bench
