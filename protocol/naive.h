#pragma once
// The textbook chapter's chunked upload ("Transferring Files", Software Design
// by Example), kept faithful, bugs included: it is the harness's reference
// victim.
//
// Client: sends the raw file bytes with the chapter's loop (send until all is
// taken), then waits for one recv(chunk_bytes) and reads the server's reply,
// the byte count as decimal ASCII text with no newline. It never shuts down
// sending.
//
// Server: calls recv(chunk_bytes) until one returns fewer than chunk_bytes
// bytes, then replies with the count. So it deadlocks on a 0-byte payload or
// one that is a multiple of chunk_bytes (it waits for more; the client waits
// for the reply), and truncates an upload when a recv comes back short.
//
// The one thing not kept is the chapter's quadratic `data += latest`: chunks
// go to the Store as they arrive. That changes no byte on the wire.

#include <cstddef>
#include <cstdint>
#include <string>

#include "ferry/protocol/connection.h"
#include "ferry/protocol/store.h"

namespace ferry {

inline constexpr std::size_t naive_chunk_bytes_default = 1024;

struct NaiveServerResult {
    std::uint64_t stored_bytes = 0;  ///< what the server received and stored
    std::string reply;               ///< what it sent back
};

/// Serves one chapter-protocol upload on conn and stores it as name. Throws
/// ConnectionError and StoreError; on a throw nothing is stored.
NaiveServerResult serve_naive_upload(Connection& conn, Store& store, const std::string& name,
                                     std::size_t chunk_bytes = naive_chunk_bytes_default);

struct NaiveClientResult {
    std::uint64_t sent_bytes = 0;
    std::string reply;  ///< the server's reply as received (empty at end of stream)
};

/// Sends the file's bytes with the chapter's loop and waits for one reply
/// recv(chunk_bytes). Streams from the reader a chunk at a time.
NaiveClientResult naive_put(Connection& conn, const FileReader& file,
                            std::size_t chunk_bytes = naive_chunk_bytes_default);

/// Generates the names the naive server stores uploads under: upload-1,
/// upload-2, ... skipping names the store already has.
class UploadNamer {
  public:
    std::string next(Store& store);

  private:
    std::uint64_t counter_ = 0;
};

}  // namespace ferry
