#pragma once
// The registry entry of a kit platform: validate, create, credentials, OAuth
// and the shared client, all from the Platform, its option table and its
// Provider class (constructed from Settings and the Context).

#include <iterator>
#include <memory>
#include <vector>

#include "providers/kit/platform.hpp"

namespace fitbridge::providers::kit {

template <const Platform& P, const auto& Options, typename Impl>
Factory make_factory(std::string_view description, uint32_t capabilities) {
    // What --version and config show list: the platform's options, then the kit's.
    static const std::vector<OptionSpec> k_all = [] {
        std::vector<OptionSpec> all(std::begin(Options), std::end(Options));
        for (const auto& spec : common_options(P)) all.push_back(spec);
        return all;
    }();
    return Factory{
        .name = P.name,
        .description = description,
        .capabilities = capabilities,
        .validate = [](const config::AccountConfig& account) -> Result<void> {
            auto s = parse_settings(P, account, Options);
            if (!s) return s.error();
            return {};
        },
        .create = [](const config::AccountConfig& account,
                     const Context& context) -> Result<std::unique_ptr<Provider>> {
            auto s = parse_settings(P, account, Options);
            if (!s) return s.error();
            return std::unique_ptr<Provider>(std::make_unique<Impl>(std::move(*s), context));
        },
        .accept_credentials =
            (P.credential_modes & (k_stored | k_oauth_app)) == 0
                ? nullptr
                : +[](const config::AccountConfig& account,
                      std::string_view kind) { return accept_credentials(P, account, kind, Options); },
        .oauth = (P.credential_modes & k_oauth_app) == 0
                     ? nullptr
                     : +[](const config::AccountConfig& account,
                           const config::Config& config) -> Result<net::OAuthEndpoints> {
            auto s = parse_settings(P, account, Options);
            if (!s) return s.error();
            return oauth_endpoints(P, *s, config);
        },
        .make_http = [](boost::asio::any_io_executor executor) { return make_platform_http(P, std::move(executor)); },
        .options = k_all,
        .missing_scopes =
            P.scope_needs.empty() ? nullptr : +[](std::string_view granted) { return kit::missing_scopes(P, granted); },
        .unofficial = P.unofficial,
    };
}

}  // namespace fitbridge::providers::kit
