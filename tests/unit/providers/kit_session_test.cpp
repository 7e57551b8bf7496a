// kit::SessionSource: a platform's own sign-in kept in the token store,
// renewed before expiry with the refresh token (a refused refresh signs in
// again, a failed one does not), and renewed once after a 401.

#include "providers/kit/session.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include "provider_test_util.hpp"
#include "support/memory_tokens.hpp"

namespace fitbridge::providers::kit {
namespace {

class SessionTest : public ::testing::Test {
protected:
    std::unique_ptr<SessionSource> make() {
        SessionSource::SignIn sign_in = [this]() -> Task<net::Credentials> {
            ++m_sign_ins;
            if (m_sign_in_error) co_return *m_sign_in_error;
            co_return net::Credentials{"", "signed-" + std::to_string(m_sign_ins),
                                       "refresh-" + std::to_string(m_sign_ins), m_clock.now() + std::chrono::hours(6),
                                       ""};
        };
        SessionSource::Refresh refresh = [this](const net::Credentials& current) -> Task<net::Credentials> {
            m_refreshed_with.push_back(current.refresh_token);
            if (m_refresh_error) co_return *m_refresh_error;
            co_return net::Credentials{"", "refreshed-" + std::to_string(m_refreshed_with.size()),
                                       current.refresh_token, m_clock.now() + std::chrono::hours(6), ""};
        };
        return std::make_unique<SessionSource>(SessionSource::Options{.account = "acc", .kind = "login"},
                                               std::move(sign_in), std::move(refresh), &m_store, m_clock);
    }
    Result<std::string> auth(SessionSource& s) { return test::run(m_io, s.authorization()); }

    boost::asio::io_context m_io;
    SystemClock m_clock;
    fitbridge::test::MemoryTokenStore m_store;
    int m_sign_ins = 0;
    std::vector<std::string> m_refreshed_with;
    std::optional<Error> m_sign_in_error;
    std::optional<Error> m_refresh_error;
};

TEST_F(SessionTest, SignsInOnceAndKeepsTheSession) {
    auto s = make();
    EXPECT_EQ(*auth(*s), "Bearer signed-1");
    EXPECT_EQ(*auth(*s), "Bearer signed-1");
    EXPECT_EQ(m_sign_ins, 1);
    EXPECT_EQ(m_store.saved["acc"].kind, "login");
    // A restart uses the stored session; another kind of credentials is not it.
    auto again = make();
    EXPECT_EQ(*auth(*again), "Bearer signed-1");
    EXPECT_EQ(m_sign_ins, 1);
    m_store.saved["acc"].kind = "oauth2";
    auto other = make();
    EXPECT_EQ(*auth(*other), "Bearer signed-2");
}

TEST_F(SessionTest, RefreshesBeforeExpiryAndSignsInWhenTheRefreshIsRefused) {
    m_store.saved["acc"] =
        net::Credentials{"login", "old", "refresh-old", m_clock.now() + std::chrono::seconds(30), ""};
    auto s = make();
    EXPECT_EQ(*auth(*s), "Bearer refreshed-1");
    EXPECT_EQ(m_refreshed_with, std::vector<std::string>{"refresh-old"});
    EXPECT_EQ(m_store.saved["acc"].access_token, "refreshed-1");
    EXPECT_EQ(m_sign_ins, 0);

    m_store.saved["acc"].expires_at = m_clock.now();
    m_refresh_error = Error::transient("x.unavailable", "down");
    auto failing = make();
    auto down = auth(*failing);
    ASSERT_FALSE(down);
    EXPECT_EQ(down.error().code, "x.unavailable");
    EXPECT_EQ(m_sign_ins, 0);  // a refresh that failed is not a refusal

    m_refresh_error = Error::auth("x.refresh_refused", "Token is not active");
    EXPECT_EQ(*auth(*failing), "Bearer signed-1");
    EXPECT_EQ(m_sign_ins, 1);
}

TEST_F(SessionTest, A401RenewsOnceAndARejectedFreshSessionIsFinal) {
    m_refresh_error = Error::auth("x.refresh_refused", "no");
    auto s = make();
    const auto first = *auth(*s);
    EXPECT_TRUE(s->invalidate(first));
    const auto second = *auth(*s);
    EXPECT_EQ(second, "Bearer signed-2");
    EXPECT_FALSE(s->invalidate(second));  // the fresh session drew a 401 too
    EXPECT_TRUE(s->invalidate(first));    // a stale header: a newer session exists
    m_sign_in_error = Error::auth("x.invalid_grant", "Invalid user credentials");
    m_store.saved.clear();
    auto refused = make();
    auto r = auth(*refused);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().cls, ErrorClass::auth);
    EXPECT_EQ(r.error().message, "Invalid user credentials");
}

}  // namespace
}  // namespace fitbridge::providers::kit
