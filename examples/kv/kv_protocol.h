#pragma once
// kv/1: a small key-value protocol of our own, written against ferry's
// Connection the way a user writes theirs, to show the harness is not welded
// to file transfer. Requests on one connection, one after another:
//
//   SET <key> <length>\n<length bytes>   ->  OK\n
//   GET <key>\n                          ->  VALUE <length>\n<length bytes>  or  NONE\n
//   DEL <key>\n                          ->  OK\n
//
// Anything else gets "ERR <message>\n" and the connection is closed. kv-buggy
// is the same with two slips a hurried author makes: the server reads a SET's
// value with a loop that always reads once (so an empty value waits for ever)
// and the client takes a VALUE line from a single recv (so a short read cuts
// its length).

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/protocol/connection.h"

namespace kv {

/// The server's data: a map from key to value, shared by its connections.
class KvStore {
  public:
    void set(const std::string& key, std::string value);
    std::optional<std::string> get(const std::string& key) const;
    void del(const std::string& key);
    std::map<std::string, std::string> snapshot() const;

  private:
    mutable std::mutex mutex_;
    std::map<std::string, std::string> values_;
};

/// The two slips of kv-buggy, each on or off.
struct Slips {
    bool value_loop_reads_once = false;  ///< server: do { recv } while: an empty value hangs
    bool length_from_one_recv = false;   ///< client: the VALUE line from a single recv
};

/// Serves requests on conn until the client closes it.
void serve_kv_connection(ferry::Connection& conn, KvStore& store, Slips slips = {});

class KvClient {
  public:
    explicit KvClient(ferry::Connection& conn, Slips slips = {}) : conn_(conn), slips_(slips) {}
    /// Each throws ferry::ConnectionError, or ferry::ProtocolError for a
    /// reply it cannot read.
    void set(std::string_view key, std::string_view value);
    std::optional<std::string> get(std::string_view key);
    void del(std::string_view key);

  private:
    std::string reply_line();
    ferry::Connection& conn_;
    Slips slips_;
};

}  // namespace kv
