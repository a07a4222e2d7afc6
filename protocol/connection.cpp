#include "ferry/protocol/connection.h"

#include <fmt/core.h>

namespace ferry {

std::string_view to_string(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::reset:
            return "reset";
        case ErrorKind::timed_out:
            return "timed out";
        case ErrorKind::refused:
            return "refused";
        case ErrorKind::closed:
            return "closed";
    }
    return "unknown";
}

void send_all(Connection& conn, std::span<const std::byte> bytes, CallSite where) {
    while (!bytes.empty()) {
        const std::size_t sent = conn.send(bytes, where);
        bytes = bytes.subspan(sent);
    }
}

void send_all(Connection& conn, std::string_view text, CallSite where) {
    send_all(conn, as_bytes(text), where);
}

std::size_t recv_exact(Connection& conn, std::span<std::byte> buffer, CallSite where) {
    std::size_t total = 0;
    while (total < buffer.size()) {
        const std::size_t got = conn.recv(buffer.subspan(total), where);
        if (got == 0)
            break;
        total += got;
    }
    return total;
}

std::optional<std::string> recv_line(Connection& conn, std::size_t max_bytes, CallSite where) {
    std::string line;
    std::byte byte{};
    while (true) {
        if (conn.recv(std::span(&byte, 1), where) == 0) {
            if (line.empty())
                return std::nullopt;
            throw ProtocolError(
                fmt::format("{} ended the stream in the middle of a line", conn.peer_name()));
        }
        if (byte == std::byte{'\n'})
            return line;
        if (line.size() + 1 >= max_bytes) {
            throw ProtocolError(
                fmt::format("line from {} is longer than {} bytes", conn.peer_name(), max_bytes));
        }
        line.push_back(static_cast<char>(byte));
    }
}

}  // namespace ferry
