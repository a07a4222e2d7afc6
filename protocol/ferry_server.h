#pragma once
// ferry/1 request handling for one connection: read a header line, serve it,
// repeat until the client closes. Errors become "ERR <code> <message>" lines;
// an error never leaves a file, or part of one, visible.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "ferry/protocol/clock.h"
#include "ferry/protocol/connection.h"
#include "ferry/protocol/store.h"

namespace ferry {

struct FerryServerConfig {
    std::size_t chunk_bytes = 64 * 1024;  ///< bytes per recv/write/read
    std::uint64_t max_file_bytes = 0;     ///< 0 = no limit; larger PUTs get ERR 413
    /// Serves streamed uploads (PUTS). False: answers them as a server from
    /// before them does, ERR 400 unknown command, so clients' fallback to
    /// PUT can be tested (ferry serve --no-streamed-put, the ferry workload's
    /// old_server).
    bool streamed_put = true;
    /// Once the first byte of a header line arrived, the whole line must
    /// arrive within this.
    Duration header_timeout = std::chrono::seconds(10);
    /// How long any single wait may last with nothing moved: before a request,
    /// and during a body.
    Duration idle_timeout = std::chrono::seconds(30);
    /// After an error that ends the connection, how long to keep discarding
    /// what the client still sends, so it can read the ERR line rather than a
    /// reset.
    Duration linger_timeout = std::chrono::seconds(1);
    /// Called with one line per request served, for the server's log.
    std::function<void(std::string_view)> log;
    /// For a server that drains (graceful shutdown) or ends connections that
    /// serve nobody to make room (ferry serve); empty: never. idle(true)
    /// comes before each wait for a request and idle(false) once its whole
    /// line is in or the wait ended: a draining server waits for the
    /// connections that are not idle, then closes the rest.
    std::function<void(bool idle)> idle;
    /// Asked once a request line has arrived: true means the server is
    /// draining, and the request is answered ERR 503 and the connection closed.
    std::function<bool()> draining;
};

/// Serves requests on conn until the client closes the connection, an error
/// ends it, or a timeout passes. Never throws ConnectionError or StoreError;
/// closes conn before returning.
void serve_ferry_connection(Connection& conn, Store& store, const FerryServerConfig& config);

/// Answers a client the server cannot take: "ERR 503 <why>" then close,
/// giving the client up to a second to take the line.
void refuse_busy(Connection& conn, std::string_view why = "too many connections");

}  // namespace ferry
