#include "providers/provider.hpp"

#include <fmt/format.h>

namespace fitbridge::providers {

namespace {
Error unsupported(std::string_view what, std::string_view account) {
    return Error::permanent("provider.unsupported", fmt::format("account '{}' cannot {}", account, what));
}
}  // namespace

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

Task<ListPage> Provider::list(const ListQuery&) { co_return unsupported("list activities", account_id()); }
Task<std::string> Provider::download(const RemoteActivity&) { co_return unsupported("download files", account_id()); }
Task<UploadResult> Provider::upload(const UploadRequest&) { co_return unsupported("receive uploads", account_id()); }
Task<std::optional<std::string>> Provider::find_existing(const UploadRequest&) {
    co_return std::optional<std::string>{};
}
Task<void> Provider::update_name(const std::string&, const std::string&) {
    co_return unsupported("rename activities", account_id());
}

}  // namespace fitbridge::providers
