// GET in one pass: the server sends the digest its store keeps with a file
// and reads the file once; a file without one is hashed once and its digest
// kept; a connection that sends straight from the file (Connection::send_file)
// gets the body through it, however little each call takes.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "ferry/protocol/digest.h"
#include "ferry/protocol/ferry_server.h"
#include "ferry/protocol/memory_store.h"
#include "tests/protocol/fake_connection.h"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::size_t chunk = 16;

/// A store of fixed files whose readers count the bytes read from them and
/// keep digests in a map shared by every reader, as DiskStore keeps them with
/// the file.
class DigestKeepingStore : public Store {
  public:
    void put(const std::string& name, std::string bytes) { files_[name] = std::move(bytes); }
    std::map<std::string, std::string> digests;  ///< by name
    std::uint64_t bytes_read = 0;

    std::unique_ptr<Upload> begin_upload(std::string_view) override {
        throw StoreError(StoreErrorKind::io, "read-only");
    }
    std::unique_ptr<FileReader> open(std::string_view name) override {
        const auto it = files_.find(std::string(name));
        if (it == files_.end())
            throw StoreError(StoreErrorKind::not_found, "no such file");
        return std::make_unique<Reader>(*this, it->first, it->second);
    }
    std::vector<FileInfo> list() override { return {}; }

  private:
    class Reader : public FileReader {
      public:
        Reader(DigestKeepingStore& store, std::string name, const std::string& bytes)
            : store_(store), name_(std::move(name)), bytes_(bytes) {}
        std::uint64_t size_bytes() const override { return bytes_.size(); }
        std::size_t read_at(std::uint64_t offset, std::span<std::byte> buffer) const override {
            const std::size_t n = std::min<std::size_t>(buffer.size(), bytes_.size() - offset);
            std::memcpy(buffer.data(), bytes_.data() + offset, n);
            store_.bytes_read += n;
            return n;
        }
        std::optional<std::string> stored_digest() const override {
            const auto it = store_.digests.find(name_);
            return it == store_.digests.end() ? std::nullopt : std::optional(it->second);
        }
        void keep_digest(std::string_view hex_digits) noexcept override {
            store_.digests[name_] = std::string(hex_digits);
        }

      private:
        DigestKeepingStore& store_;
        std::string name_;
        const std::string& bytes_;
    };

    std::map<std::string, std::string> files_;
};

/// A connection that sends files itself, taking at most send_file_bytes_max
/// of one per call (as sendfile(2) takes what fits in the socket), and
/// resets once reset_after bytes of bodies went out that way.
class SendFileConnection : public ScriptedConnection {
  public:
    using ScriptedConnection::ScriptedConnection;
    std::size_t send_file_bytes_max = 5;
    std::optional<std::size_t> reset_after;
    int send_file_calls = 0;

  protected:
    std::optional<std::size_t> do_send_file(const FileReader& file, std::uint64_t offset,
                                            std::uint64_t count) override {
        ++send_file_calls;
        if (reset_after && sent_by_file_ >= *reset_after)
            throw ConnectionError(ErrorKind::reset, "peer reset during sendfile");
        std::string piece(std::min<std::uint64_t>(count, send_file_bytes_max), '\0');
        const std::size_t got =
            file.read_at(offset, std::as_writable_bytes(std::span(piece.data(), piece.size())));
        piece.resize(got);
        sent_by_file_ += got;
        return send(as_bytes(piece));
    }

  private:
    std::size_t sent_by_file_ = 0;
};

FerryServerConfig small_chunks() {
    FerryServerConfig config;
    config.chunk_bytes = chunk;
    return config;
}

std::string ok_line(std::string_view body) {
    return fmt::format("OK {} {}\n", body.size(), digest_hex(as_bytes(body)));
}

std::string serve(Store& store, std::string input) {
    ScriptedConnection conn(std::move(input));
    serve_ferry_connection(conn, store, small_chunks());
    return conn.sent();
}

TEST(FerryServerGet, AStoredDigestGoesInTheHeaderAndTheFileIsReadOnce) {
    DigestKeepingStore store;
    const std::string body = payload(1000);
    store.put("f", body);
    store.digests["f"] = digest_hex(as_bytes(body));
    EXPECT_EQ(serve(store, "GET f\n"), ok_line(body) + body);
    EXPECT_EQ(store.bytes_read, body.size());
}

TEST(FerryServerGet, AFileWithoutADigestIsHashedOnceAndItsDigestKept) {
    DigestKeepingStore store;
    const std::string body = payload(1000);
    store.put("f", body);
    EXPECT_EQ(serve(store, "GET f\n"), ok_line(body) + body);
    EXPECT_EQ(store.bytes_read, 2 * body.size());  // hashed, then sent
    EXPECT_EQ(store.digests.at("f"), digest_hex(as_bytes(body)));

    store.bytes_read = 0;
    EXPECT_EQ(serve(store, "GET f\nGET f\n"), ok_line(body) + body + ok_line(body) + body);
    EXPECT_EQ(store.bytes_read, 2 * body.size());  // once each, from the kept digest
}

TEST(FerryServerGet, AnEmptyFileHasADigestWithoutAnyRead) {
    DigestKeepingStore store;
    store.put("empty", "");
    EXPECT_EQ(serve(store, "GET empty\n"), ok_line(""));
    EXPECT_EQ(store.digests.at("empty"), digest_hex(as_bytes(std::string_view())));
}

TEST(FerryServerGet, TheServerSendsTheDigestItsStoreKeeps) {
    // The store's promise, not the server's to check: a client finds a
    // digest that does not describe the bytes (ferry_client_test.cpp).
    DigestKeepingStore store;
    store.put("f", "hello");
    store.digests["f"] = std::string(32, '0');
    EXPECT_THAT(serve(store, "GET f\n"), StartsWith("OK 5 " + std::string(32, '0') + "\n"));
}

TEST(FerryServerGet, ABodySentStraightFromTheFileArrivesWholeThroughPartialSends) {
    for (const std::size_t per_call : {std::size_t{1}, std::size_t{5}, std::size_t{4096}}) {
        SCOPED_TRACE(per_call);
        MemoryStore store;
        const std::string body = payload(1000);
        store.put_file("f", std::vector<std::byte>(as_bytes(body).begin(), as_bytes(body).end()));
        SendFileConnection conn("GET f\nGET f\n");
        conn.send_file_bytes_max = per_call;
        conn.limit_send_bytes(3);  // and each send takes at most 3 of those
        serve_ferry_connection(conn, store, small_chunks());
        EXPECT_EQ(conn.sent(), ok_line(body) + body + ok_line(body) + body);
        EXPECT_GE(conn.send_file_calls, static_cast<int>(2 * body.size() / 3));
    }
}

TEST(FerryServerGet, AResetWhileSendingFromTheFileEndsTheConnection) {
    MemoryStore store;
    const std::string body = payload(1000);
    store.put_file("f", std::vector<std::byte>(as_bytes(body).begin(), as_bytes(body).end()));
    SendFileConnection conn("GET f\nDIR\n");
    conn.reset_after = 500;
    std::vector<std::string> log;
    FerryServerConfig config = small_chunks();
    config.log = [&](std::string_view line) { log.emplace_back(line); };
    serve_ferry_connection(conn, store, config);
    EXPECT_EQ(conn.sent(), ok_line(body) + body.substr(0, 500));
    EXPECT_TRUE(conn.closed());
    EXPECT_THAT(log, ::testing::Contains(HasSubstr("peer reset during sendfile")));
}

}  // namespace
}  // namespace ferry::testing
