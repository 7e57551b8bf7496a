#pragma once
// Test helper: providers::Factory values for scripted test providers, built
// with designated initialisers so that a new Factory field breaks no test.

#include <cstdint>
#include <string_view>

#include "providers/provider.hpp"

namespace fitbridge::test {

// The validate of a scripted provider: every account is valid.
inline Result<void> accept_any_account(const config::AccountConfig&) { return {}; }

// A scripted provider's factory: every account valid, no credentials through
// the store, no OAuth flow; `make_http` for one whose accounts share a client.
inline providers::Factory scripted_factory(std::string_view name, std::string_view description, uint32_t capabilities,
                                           decltype(providers::Factory::create) create,
                                           decltype(providers::Factory::make_http) make_http = nullptr) {
    return providers::Factory{.name = name,
                              .description = description,
                              .capabilities = capabilities,
                              .validate = accept_any_account,
                              .create = create,
                              .accept_credentials = nullptr,
                              .oauth = nullptr,
                              .make_http = make_http};
}

}  // namespace fitbridge::test
