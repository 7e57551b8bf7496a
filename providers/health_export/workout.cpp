#include "providers/health_export/workout.hpp"

#include <algorithm>
#include <iterator>

namespace fitbridge::providers::health_export {

std::optional<double> heart_rate_at(const std::vector<HeartRate>& samples, double time, double max_gap_s) {
    auto after =
        std::upper_bound(samples.begin(), samples.end(), time, [](double t, const HeartRate& s) { return t < s.time; });
    if (after != samples.begin() && time - std::prev(after)->time <= max_gap_s) return std::prev(after)->bpm;
    if (after != samples.end() && after->time - time <= max_gap_s) return after->bpm;
    return std::nullopt;
}

std::string words_of(std::string_view camel) {
    std::string out;
    for (size_t i = 0; i < camel.size(); ++i) {
        const char c = camel[i];
        const bool upper = c >= 'A' && c <= 'Z';
        const bool prev_lower = i > 0 && ((camel[i - 1] >= 'a' && camel[i - 1] <= 'z'));
        const bool next_lower = i + 1 < camel.size() && camel[i + 1] >= 'a' && camel[i + 1] <= 'z';
        const bool prev_upper = i > 0 && camel[i - 1] >= 'A' && camel[i - 1] <= 'Z';
        if (upper && i > 0 && (prev_lower || (prev_upper && next_lower))) out.push_back(' ');
        out.push_back(c);
    }
    return out;
}

}  // namespace fitbridge::providers::health_export
