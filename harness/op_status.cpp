#include "ferry/harness/op_status.h"

#include <fmt/core.h>

#include "ferry/protocol/ferry_client.h"
#include "ferry/protocol/store.h"

namespace ferry::harness {

OpEnd end_for(const ConnectionError& error) {
    switch (error.kind()) {
        case ErrorKind::timed_out:
            return {OpStatus::timed_out, 0, error.what()};
        case ErrorKind::refused:
            return {OpStatus::connect_failed, 0, error.what()};
        case ErrorKind::reset:
        case ErrorKind::closed:
            return {OpStatus::cut, 0, error.what()};
    }
    return {OpStatus::cut, 0, error.what()};
}

OpEnd end_for_current_exception() {
    try {
        throw;
    } catch (const ConnectionError& e) {
        return end_for(e);
    } catch (const RemoteError& e) {
        return {OpStatus::refused, e.code(), e.what()};
    } catch (const CorruptedTransfer& e) {
        return {OpStatus::corrupted, 0, e.what()};
    } catch (const ProtocolError& e) {
        return {OpStatus::protocol_error, 0, e.what()};
    } catch (const StoreError& e) {
        return {OpStatus::protocol_error, 0, fmt::format("store: {}", e.what())};
    }
}

}  // namespace ferry::harness
