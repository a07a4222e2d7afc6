#pragma once
// The kinds of value a fault knob holds, each with one text form, one TOML
// form (as a KnobValue) and a reading in words. fault_plan.cpp declares the
// knobs in terms of these; nothing else needs them.

#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/harness/fault_plan.h"
#include "ferry/sim/faults.h"

namespace ferry::harness::knob {

/// Segment latency, drawn per segment from [min_ms, max_ms].
struct Latency {
    std::uint64_t min_ms = 1;
    std::uint64_t max_ms = 1;
    friend bool operator==(const Latency&, const Latency&) = default;
};

/// The simulated TCP buffers of every connection.
struct Buffers {
    std::uint64_t send_buffer_bytes = 0;
    std::uint64_t receive_window_bytes = 0;
    std::uint64_t segment_bytes_max = 0;
    friend bool operator==(const Buffers&, const Buffers&) = default;
};

/// One call of the server's filesystem that fails: the at-th of its kind
/// (none = of any kind), and (persist) every one after it, with error.
struct StoreIo {
    std::optional<FsCall> call;
    std::uint64_t at = 0;  ///< 0 = none fails
    bool persist = false;
    int error = EIO;  ///< EIO or ENOSPC
    friend bool operator==(const StoreIo&, const StoreIo&) = default;
};

/// The server's machine crashing once (sim/faults.h).
using Crash = std::optional<sim::CrashFault>;

using Clog = std::optional<sim::ClogFault>;
using Stall = std::optional<sim::StallFault>;
using Reset = std::optional<sim::ResetFault>;

// Text forms: "1/8", "700", "0..50", "64:512:1460", "100+2000",
// "server:512+2000", "client:700", "write:3:persist",
// "bytes:5000:kill". Each parse returns
// none for text that is not of its form.
std::string to_text(const sim::Ratio& value);
std::string to_text(const std::uint64_t& value);
std::string to_text(const Latency& value);
std::string to_text(const Buffers& value);
std::string to_text(const Clog& value);
std::string to_text(const Stall& value);
std::string to_text(const Reset& value);
std::string to_text(const StoreIo& value);
std::string to_text(const Crash& value);
bool from_text(std::string_view text, sim::Ratio& out);
bool from_text(std::string_view text, std::uint64_t& out);
bool from_text(std::string_view text, Latency& out);
bool from_text(std::string_view text, Buffers& out);
bool from_text(std::string_view text, Clog& out);
bool from_text(std::string_view text, Stall& out);
bool from_text(std::string_view text, Reset& out);
bool from_text(std::string_view text, StoreIo& out);
bool from_text(std::string_view text, Crash& out);

// TOML forms: a ratio is "1/8" or true (always) / false (never); a count an
// integer; latency [min, max]; the rest inline tables of named fields.
KnobValue to_value(const sim::Ratio& value);
KnobValue to_value(const std::uint64_t& value);
KnobValue to_value(const Latency& value);
KnobValue to_value(const Buffers& value);
KnobValue to_value(const Clog& value);
KnobValue to_value(const Stall& value);
KnobValue to_value(const Reset& value);
KnobValue to_value(const StoreIo& value);
KnobValue to_value(const Crash& value);
/// Each sets out, or returns why the value is not of its form.
std::optional<std::string> from_value(const KnobValue& value, sim::Ratio& out);
std::optional<std::string> from_value(const KnobValue& value, std::uint64_t& out);
std::optional<std::string> from_value(const KnobValue& value, Latency& out);
std::optional<std::string> from_value(const KnobValue& value, Buffers& out);
std::optional<std::string> from_value(const KnobValue& value, Clog& out);
std::optional<std::string> from_value(const KnobValue& value, Stall& out);
std::optional<std::string> from_value(const KnobValue& value, Reset& out);
std::optional<std::string> from_value(const KnobValue& value, StoreIo& out);
std::optional<std::string> from_value(const KnobValue& value, Crash& out);

/// "any" or the call's name.
std::string_view to_string(const std::optional<FsCall>& call);

}  // namespace ferry::harness::knob
