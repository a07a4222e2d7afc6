#pragma once
#include "ferry/protocol/connection.h"

// A protocol of one's own: "HELLO <name>\n" gets "HI <name>\n".
inline void serve_greeting(ferry::Connection& conn) {
    const auto line = ferry::recv_line(conn, 256);  // up to '\n', however it arrives
    if (line && line->starts_with("HELLO "))
        ferry::send_all(conn, "HI " + line->substr(6) + "\n");
}

inline std::string greet(ferry::Connection& conn, const std::string& name) {
    ferry::send_all(conn, "HELLO " + name + "\n");
    return ferry::recv_line(conn, 256).value_or("");
}
