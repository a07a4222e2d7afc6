#include "kv_protocol.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>
#include <vector>

#include <fmt/core.h>

namespace kv {

using ferry::Connection;
using ferry::ProtocolError;

void KvStore::set(const std::string& key, std::string value) {
    std::lock_guard lock(mutex_);
    values_[key] = std::move(value);
}

std::optional<std::string> KvStore::get(const std::string& key) const {
    std::lock_guard lock(mutex_);
    const auto it = values_.find(key);
    if (it == values_.end())
        return std::nullopt;
    return it->second;
}

void KvStore::del(const std::string& key) {
    std::lock_guard lock(mutex_);
    values_.erase(key);
}

std::map<std::string, std::string> KvStore::snapshot() const {
    std::lock_guard lock(mutex_);
    return values_;
}

namespace {

constexpr std::size_t line_max = 256;

std::optional<std::size_t> parse_length(std::string_view text) {
    std::size_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || text.empty())
        return std::nullopt;
    return value;
}

/// length bytes of a value, read the right way: a recv may return a prefix.
std::string read_value(Connection& conn, std::size_t length) {
    std::string value(length, '\0');
    for (std::size_t got = 0; got < length;) {
        const std::size_t n =
            conn.recv(std::as_writable_bytes(std::span(value.data() + got, value.size() - got)));
        if (n == 0)
            throw ProtocolError("the value ended early");
        got += n;
    }
    return value;
}

/// The slip: a loop that reads a chunk before it asks whether any is due,
/// so an empty value waits for bytes that never come.
std::string read_value_reading_once(Connection& conn, std::size_t length) {
    std::string value;
    std::array<std::byte, 64> chunk{};
    do {
        // recv of nothing returns at once, so it asks for at least a byte.
        const std::size_t want = std::max<std::size_t>(length - value.size(), 1);
        const std::size_t n = conn.recv(std::span(chunk).first(std::min(chunk.size(), want)));
        if (n == 0)
            throw ProtocolError("the value ended early");
        value.append(ferry::as_text(std::span(chunk).first(n)));
    } while (value.size() < length);
    return value;
}

}  // namespace

void serve_kv_connection(Connection& conn, KvStore& store, Slips slips) {
    while (const auto line = ferry::recv_line(conn, line_max)) {
        const std::string_view request = *line;
        const auto space = request.find(' ');
        const std::string_view verb = request.substr(0, space);
        const std::string_view rest =
            space == std::string_view::npos ? "" : request.substr(space + 1);
        if (verb == "SET") {
            const auto sep = rest.find(' ');
            const auto length =
                sep == std::string_view::npos ? std::nullopt : parse_length(rest.substr(sep + 1));
            if (!length) {
                ferry::send_all(conn, "ERR malformed SET\n");
                return;
            }
            store.set(std::string(rest.substr(0, sep)), slips.value_loop_reads_once
                                                            ? read_value_reading_once(conn, *length)
                                                            : read_value(conn, *length));
            ferry::send_all(conn, "OK\n");
        } else if (verb == "GET" && !rest.empty()) {
            const auto value = store.get(std::string(rest));
            ferry::send_all(conn,
                            value ? fmt::format("VALUE {}\n{}", value->size(), *value) : "NONE\n");
        } else if (verb == "DEL" && !rest.empty()) {
            store.del(std::string(rest));
            ferry::send_all(conn, "OK\n");
        } else {
            ferry::send_all(conn, "ERR unknown request\n");
            return;
        }
    }
}

std::string KvClient::reply_line() {
    auto line = ferry::recv_line(conn_, line_max);
    if (!line)
        throw ProtocolError("the server closed without a reply");
    return *line;
}

void KvClient::set(std::string_view key, std::string_view value) {
    ferry::send_all(conn_, fmt::format("SET {} {}\n{}", key, value.size(), value));
    const std::string line = reply_line();
    if (line != "OK")
        throw ProtocolError(fmt::format("SET answered {:?}", line));
}

std::optional<std::string> KvClient::get(std::string_view key) {
    ferry::send_all(conn_, fmt::format("GET {}\n", key));
    std::string line;
    std::string early;  // value bytes the single recv took with the line
    if (slips_.length_from_one_recv) {
        std::string buffer(line_max, '\0');
        const std::size_t n = conn_.recv(std::as_writable_bytes(std::span(buffer)));
        buffer.resize(n);
        const auto newline = buffer.find('\n');
        line = buffer.substr(0, newline);  // the slip: the whole line is assumed here
        if (newline != std::string::npos)
            early = buffer.substr(newline + 1);
    } else {
        line = reply_line();
    }
    if (line == "NONE")
        return std::nullopt;
    const auto length = line.starts_with("VALUE ") ? parse_length(line.substr(6)) : std::nullopt;
    if (!length || early.size() > *length)
        throw ProtocolError(fmt::format("GET answered {:?}", line));
    return early + read_value(conn_, *length - early.size());
}

void KvClient::del(std::string_view key) {
    ferry::send_all(conn_, fmt::format("DEL {}\n", key));
    const std::string line = reply_line();
    if (line != "OK")
        throw ProtocolError(fmt::format("DEL answered {:?}", line));
}

}  // namespace kv
