#include "formats/summary.hpp"

namespace fitbridge::formats {

std::string_view format_name(Format f, bool gzipped) {
    switch (f) {
        case Format::fit: return gzipped ? "fit.gz" : "fit";
        case Format::gpx: return gzipped ? "gpx.gz" : "gpx";
        case Format::tcx: return gzipped ? "tcx.gz" : "tcx";
        case Format::unknown: return gzipped ? "unknown.gz" : "unknown";
    }
    return "unknown";
}

}  // namespace fitbridge::formats
