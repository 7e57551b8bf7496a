#pragma once
// A small metrics registry (counters, gauges, histograms with labels) and its
// rendering in the Prometheus text exposition format 0.0.4. Low in the layers
// so net and formats can count; the API serves it at GET /metrics.

#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fitbridge::metrics {

// Label pairs in the order they are rendered, e.g. {{"platform", "strava"}}.
using Labels = std::vector<std::pair<std::string, std::string>>;

// Bucket upper bounds (seconds) shared by the duration histograms.
inline constexpr double k_request_buckets[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
inline constexpr double k_decode_buckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

// Families and their series, rendered sorted by family name then labels.
// Calls are cheap and guarded by one mutex: the daemon updates it from its
// io_context thread, but decode and tests may run elsewhere. A family's type,
// help and buckets are fixed by its first use; using a name with another
// type is a bug (std::logic_error).
class Registry {
public:
    // Adds `by` (>= 0) to a counter. Counter names end in "_total".
    void add(std::string_view name, std::string_view help, const Labels& labels, double by = 1);
    // Sets a gauge.
    void set(std::string_view name, std::string_view help, const Labels& labels, double value);
    // Records one observation in a histogram with the given bucket bounds (ascending).
    void observe(std::string_view name, std::string_view help, std::span<const double> buckets, const Labels& labels,
                 double value);

    // The current value of a counter or gauge series (0 when absent); for tests.
    double value(std::string_view name, const Labels& labels) const;
    // Everything, in the text format: "# HELP", "# TYPE", then one line per series.
    std::string render() const;

private:
    enum class Type { counter, gauge, histogram };
    struct Series {
        double value = 0;              // counter or gauge
        std::vector<uint64_t> counts;  // histogram: per bucket (not cumulative)
        uint64_t count = 0;
        double sum = 0;
    };
    struct Family {
        Type type;
        std::string help;
        std::vector<double> buckets;
        std::map<Labels, Series> series;
    };
    Family& family(std::string_view name, std::string_view help, Type type, std::span<const double> buckets);

    mutable std::mutex m_mutex;
    std::map<std::string, Family, std::less<>> m_families;
};

// The process-wide registry that net and formats count into.
Registry& global();

// A sample value as the format writes it: integers without a fraction,
// "+Inf", "-Inf", "NaN", else the shortest round-trip decimal.
std::string format_value(double v);

}  // namespace fitbridge::metrics
