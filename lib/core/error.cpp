#include "core/error.hpp"

namespace fitbridge {

std::string_view to_string(ErrorClass c) {
    switch (c) {
        case ErrorClass::transient: return "transient";
        case ErrorClass::rate_limited: return "rate_limited";
        case ErrorClass::auth: return "auth";
        case ErrorClass::permanent: return "permanent";
        case ErrorClass::fatal: return "fatal";
    }
    return "unknown";
}

}  // namespace fitbridge
