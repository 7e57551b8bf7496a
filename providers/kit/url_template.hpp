#pragma once
// URLs built from a configured template and values a platform's answer gives
// ("https://{bucket}.s3.amazonaws.com/{key}"), for files a platform serves
// from elsewhere (a storage bucket) and fetches without its credentials.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace fitbridge::providers::kit {

// `url_template` with each {name} replaced by its value, percent-encoded
// except for '/' (object keys keep their folders). Errors (permanent,
// code `code`): a placeholder without a value or with an empty one, a
// value containing "..", or a result that is not an http(s) URL.
Result<std::string> fill_url_template(std::string_view url_template,
                                      const std::vector<std::pair<std::string, std::string>>& values,
                                      std::string_view code);

// The names of the placeholders in `url_template`, in order ("bucket", "key").
std::vector<std::string> template_names(std::string_view url_template);

}  // namespace fitbridge::providers::kit
