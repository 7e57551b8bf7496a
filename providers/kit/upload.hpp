#pragma once
// Upload helpers: a multipart/form-data or base64-in-JSON body for an
// original file, upload-then-poll for platforms that process uploads in the
// background, and find_existing by start time and sport for platforms with no
// external-id lookup.
//
// Exactly-once: the engine marks a delivery in_flight before upload() and
// asks find_existing() about every in_flight delivery after a crash, so an
// upload whose answer was lost is found instead of sent twice. Within one
// run, UploadPoller keeps uploads that may still land and, when the engine
// retries one, polls it again instead of uploading a second copy.

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "net/multipart.hpp"
#include "net/retry.hpp"
#include "providers/kit/platform.hpp"
#include "store/cursors.hpp"

namespace fitbridge::providers::kit {

// One file of a multi-file upload request.
struct BatchItem {
    std::span<const uint8_t> bytes{};
    std::string file_name{};
};

// Makes `call` a multipart upload: the text `fields`, then `bytes` as the file part.
void set_multipart(Call& call, const std::vector<net::MultipartField>& fields, const net::MultipartFile& file,
                   std::span<const uint8_t> bytes);

// Makes `call` a multipart upload of several files, each a part named
// `file_field` (repeated), after the text `fields`.
void set_multipart_files(Call& call, const std::vector<net::MultipartField>& fields, std::string_view file_field,
                         const std::vector<BatchItem>& files);

// A JSON object of string `fields` plus `file_field` holding base64(bytes).
std::string json_with_base64(const std::vector<std::pair<std::string, std::string>>& fields,
                             std::string_view file_field, std::span<const uint8_t> bytes);

// One look at an upload the platform is processing.
struct UploadStatus {
    enum State { pending, done, failed } state = pending;
    std::string remote_id{};       // when done
    bool duplicate = false;        // done, as a duplicate of remote_id
    std::optional<Error> error{};  // when failed (the platform's reason)
};

struct PollPolicy {
    int max_polls = 8;
    std::chrono::milliseconds first_delay{1000};
    std::chrono::milliseconds max_delay{15000};  // the delay doubles up to this
};

// The waits an UploadPoller of a provider made with `context` takes:
// Context::sleep, else real timers.
inline net::SleepFn poll_sleep(const Context& context) {
    return context.sleep ? net::SleepFn(context.sleep) : net::timer_sleep();
}

// Upload-then-poll with a bound: after max_polls pending answers the upload is
// a transient error (it may still land), remembered under its key so the
// engine's retry polls it again rather than uploading again.
class UploadPoller {
public:
    using Start = std::function<Task<std::string>()>;  // sends, returns the upload id
    using Check = std::function<Task<UploadStatus>(const std::string& upload_id)>;

    UploadPoller(const Platform& platform, PollPolicy policy = {}, net::SleepFn sleep = net::timer_sleep())
        : m_platform(platform), m_policy(policy), m_sleep(std::move(sleep)) {}

    // Keeps uploads that may still land in `store` too (under
    // "upload:<key>" for `account`), so a retry after a restart polls them
    // instead of uploading again. Without it they last as long as the poller.
    void persist(store::CursorStore* store, std::string account) {
        m_store = store;
        m_account = std::move(account);
    }

    // `key` identifies the activity (UploadRequest::external_id).
    Task<UploadResult> upload(const std::string& key, Start start, Check check);
    // Uploads sent but not yet seen done, by key.
    const std::map<std::string, std::string>& pending() const { return m_pending; }

private:
    const Platform& m_platform;
    PollPolicy m_policy;
    net::SleepFn m_sleep;
    std::map<std::string, std::string> m_pending;  // key -> upload id
    store::CursorStore* m_store = nullptr;
    std::string m_account;
};

// Gathers uploads that run at the same time into one request of at most
// `max_batch` files, for platforms that take several files per request
// (SweatStack: 10). The first upload opens a batch and sends it after
// `gather`, or as soon as it is full; each upload gets its own item of the
// answer. The bytes must stay valid until submit() returns.
class UploadBatcher {
public:
    // Sends one request for `items`: one upload id or error per item, in
    // order. An error for the whole request is every item's error.
    using Send = std::function<Task<std::vector<Result<std::string>>>(const std::vector<BatchItem>& items)>;

    UploadBatcher(size_t max_batch, std::chrono::milliseconds gather, Send send)
        : m_max(std::max<size_t>(1, max_batch)), m_gather(gather), m_send(std::move(send)) {}
    // Adds `item` to the open batch (opening one) and waits for its answer.
    Task<std::string> submit(BatchItem item);
    // Requests sent so far (for tests and logs).
    size_t requests() const { return m_requests; }

private:
    struct Batch;
    size_t m_max;
    std::chrono::milliseconds m_gather;
    Send m_send;
    std::shared_ptr<Batch> m_open;
    size_t m_requests = 0;
};

// gear_map, for platforms with gear: entries "<sport family>:<gear id>" (or
// "*:<gear id>"); the gear is set on activities the account uploads.
std::string check_gear_entry(std::string_view entry);
inline constexpr OptionSpec k_gear_map_option{.name = "gear_map",
                                              .type = OptionType::list,
                                              .help = "<sport family>:<gear id> set on activities this account uploads",
                                              .check = &check_gear_entry};
// The gear id gear_map gives `family` (the first matching entry), or nullopt.
std::optional<std::string> gear_for(const OptionValues& options, std::string_view family);
// Sets the mapped gear on a new upload through provider.update_gear. The
// upload itself succeeded: a failed update must not make the engine upload
// again, so it is only logged.
boost::asio::awaitable<void> apply_gear_map(Provider& provider, const OptionValues& options,
                                            const std::string& remote_id, const UploadRequest& request);

// The start-time window a platform's list call is asked about.
using ListWindow = std::function<Task<std::vector<RemoteActivity>>(double since, double until)>;

// sync.match_tolerance of the config (300 s without one).
double match_tolerance(const config::Config* config);

// The listed activity that is `request`'s: start within `tolerance_s`
// (closest first) and a compatible sport family (unknown matches any).
std::optional<std::string> pick_by_start(const UploadRequest& request, const std::vector<RemoteActivity>& items,
                                         double tolerance_s);

// find_existing through the platform's list call: lists start ± tolerance
// and picks by start and sport. Without a start time nothing can be found.
Task<std::optional<std::string>> find_by_start(const UploadRequest& request, ListWindow list, double tolerance_s);

}  // namespace fitbridge::providers::kit
