#include "providers/provider.hpp"

#include <fmt/format.h>

namespace fitbridge::providers {

std::vector<std::string_view> capability_names(uint32_t caps) {
    static constexpr std::pair<uint32_t, std::string_view> k_names[] = {
        {k_list_window, "list_window"},
        {k_list_cursor, "list_cursor"},
        {k_get_details, "details"},
        {k_download, "download"},
        {k_upload, "upload"},
        {k_create_metadata, "create"},
        {k_update_name, "update_name"},
        {k_update_description, "update_description"},
        {k_update_sport, "update_sport"},
        {k_update_gear, "update_gear"},
        {k_list_gear, "list_gear"},
        {k_delete, "delete"},
        {k_watch, "watch"},
    };
    std::vector<std::string_view> out;
    for (const auto& [bit, name] : k_names)
        if (caps & bit) out.push_back(name);
    return out;
}

bool is_unsupported(const Error& e) {
    return e.code == "provider.unsupported" || std::string_view(e.code).ends_with(".unsupported_format");
}

Error Provider::unsupported_error(std::string_view what) const {
    return Error::permanent("provider.unsupported", fmt::format("{} is not supported by {} (account '{}')", what,
                                                                platform_name(), account_id()));
}

Task<ListPage> Provider::list(const ListQuery&) { co_return unsupported_error("listing activities"); }
Task<std::string> Provider::download(const RemoteActivity&) { co_return unsupported_error("downloading files"); }
Task<UploadResult> Provider::upload(const UploadRequest&) { co_return unsupported_error("receiving uploads"); }
Task<void> Provider::update_name(const std::string&, const std::string&) {
    co_return unsupported_error("renaming activities");
}
Task<void> Provider::update_description(const std::string&, const std::string&) {
    co_return unsupported_error("updating descriptions");
}
Task<void> Provider::update_sport(const std::string&, const std::string&) {
    co_return unsupported_error("changing the sport of activities");
}
Task<void> Provider::update_gear(const std::string&, const std::string&) {
    co_return unsupported_error("setting gear on activities");
}
Task<std::vector<Gear>> Provider::list_gear() { co_return unsupported_error("listing gear"); }
Task<void> Provider::delete_activity(const std::string&) { co_return unsupported_error("deleting activities"); }

}  // namespace fitbridge::providers
