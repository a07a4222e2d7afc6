#include "ferry/protocol/naive.h"

#include <algorithm>
#include <vector>

#include <fmt/core.h>

#include "ferry/protocol/chunk_buffer.h"

namespace ferry {

NaiveServerResult serve_naive_upload(Connection& conn, Store& store, const std::string& name,
                                     std::size_t chunk_bytes) {
    auto upload = store.begin_upload(name);
    ChunkBuffer buffer(chunk_bytes);
    std::uint64_t total = 0;
    // The chapter's loop: a recv shorter than CHUNK_SIZE means "that was all".
    while (true) {
        const std::span<std::byte> space = buffer.all();
        const std::size_t got = conn.recv(space);
        upload->write(space.first(got));
        total += got;
        if (got < chunk_bytes)
            break;
    }
    upload->commit();
    NaiveServerResult result{total, std::to_string(total)};
    send_all(conn, result.reply);
    return result;
}

NaiveClientResult naive_put(Connection& conn, const FileReader& file, std::size_t chunk_bytes) {
    // The chapter reads the whole file and offers all that is left to each
    // send; we offer up to a megabyte at a time, which a stream cannot tell
    // apart.
    constexpr std::size_t piece_bytes_max = 1024 * 1024;
    const std::uint64_t size = file.size_bytes();
    ChunkBuffer buffer(std::min<std::uint64_t>(size, piece_bytes_max));
    NaiveClientResult result;
    while (result.sent_bytes < size) {
        std::span<const std::byte> remaining =
            read_piece(file, result.sent_bytes, size - result.sent_bytes, buffer);
        if (remaining.empty()) {
            throw StoreError(
                StoreErrorKind::io,
                fmt::format("file shrank to {} bytes while being sent", result.sent_bytes));
        }
        while (!remaining.empty()) {
            const std::size_t sent = conn.send(remaining);
            remaining = remaining.subspan(sent);
            result.sent_bytes += sent;
        }
    }
    std::vector<std::byte> reply(chunk_bytes);
    const std::size_t got = conn.recv(std::span(reply));
    result.reply = std::string(as_text(std::span<const std::byte>(reply.data(), got)));
    return result;
}

std::string UploadNamer::next(Store& store) {
    while (true) {
        std::string name = fmt::format("upload-{}", ++counter_);
        auto opened = store.try_open(name);
        if (const auto* failure = std::get_if<StoreFailure>(&opened)) {
            if (failure->kind == StoreErrorKind::not_found)
                return name;
            throw StoreError(*failure);
        }
    }
}

}  // namespace ferry
