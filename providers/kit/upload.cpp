#include "providers/kit/upload.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cmath>

#include <fmt/format.h>

#include "core/log.hpp"
#include "json/json.hpp"
#include "net/oauth.hpp"

namespace fitbridge::providers::kit {

void set_multipart(Call& call, const std::vector<net::MultipartField>& fields, const net::MultipartFile& file,
                   std::span<const uint8_t> bytes) {
    auto frame = net::build_multipart(fields, file);
    call.body.clear();
    call.body.reserve(frame.head.size() + bytes.size() + frame.tail.size());
    call.body += frame.head;
    call.body.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    call.body += frame.tail;
    std::erase_if(call.headers, [](const auto& h) { return h.first == "Content-Type"; });
    call.headers.emplace_back("Content-Type", frame.content_type);
}

void set_multipart_files(Call& call, const std::vector<net::MultipartField>& fields, std::string_view file_field,
                         const std::vector<BatchItem>& files) {
    const std::string boundary = net::make_boundary();
    // A quote or line break would end the header value early.
    auto quoted = [](std::string_view v) {
        std::string out;
        for (char c : v)
            out += c == '"' ? std::string("%22") : c == '\r' || c == '\n' ? std::string(" ") : std::string(1, c);
        return out;
    };
    std::string& body = call.body;
    body.clear();
    for (const auto& f : fields)
        body += fmt::format("--{}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n{}\r\n", boundary,
                            quoted(f.name), f.value);
    for (const auto& file : files) {
        body += fmt::format(
            "--{}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: "
            "application/octet-stream\r\n\r\n",
            boundary, quoted(file_field), quoted(file.file_name));
        body.append(reinterpret_cast<const char*>(file.bytes.data()), file.bytes.size());
        body += "\r\n";
    }
    body += fmt::format("--{}--\r\n", boundary);
    std::erase_if(call.headers, [](const auto& h) { return h.first == "Content-Type"; });
    call.headers.emplace_back("Content-Type", "multipart/form-data; boundary=" + boundary);
}

std::string json_with_base64(const std::vector<std::pair<std::string, std::string>>& fields,
                             std::string_view file_field, std::span<const uint8_t> bytes) {
    json::Builder b;
    b.w.StartObject();
    for (const auto& [k, v] : fields) {
        b.key(k);
        b.string(v);
    }
    b.key(file_field);
    b.string(net::base64(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size())));
    b.w.EndObject();
    return b.str();
}

Task<UploadResult> UploadPoller::upload(const std::string& key, Start start, Check check) {
    const std::string name = "upload:" + key;
    // Remembered across restarts: saved when an upload is left pending, and
    // emptied once its outcome is known.
    bool saved = false;
    auto remember = [&](const std::string& id) {
        if (m_store == nullptr) return;
        if (auto r = m_store->save(m_account, name, id); r)
            saved = !id.empty();
        else
            log::warn("account {}: keeping pending upload {} failed: {}", m_account, id, r.error().message);
    };
    auto forget = [&]() {
        m_pending.erase(key);
        if (saved) remember("");
    };
    std::optional<std::string> kept;  // left pending by an earlier run
    if (m_store != nullptr && !m_pending.contains(key))
        if (auto r = m_store->load(m_account, name); r && *r && !(*r)->empty()) kept = **r;
    std::string upload_id;
    if (auto it = m_pending.find(key); it != m_pending.end()) {
        upload_id = it->second;  // the earlier upload may still land: look at it, do not send again
    } else if (kept) {
        upload_id = *kept;
        saved = true;
        m_pending[key] = upload_id;
    } else {
        auto started = co_await start();
        if (!started) co_return started.error();
        upload_id = *started;
        m_pending[key] = upload_id;
    }
    auto delay = m_policy.first_delay;
    for (int poll = 0; poll < m_policy.max_polls; ++poll) {
        auto status = co_await check(upload_id);
        if (!status) {
            if (status.error().retryable()) {  // still pending: keep the key
                if (!saved) remember(upload_id);
                co_return status.error();
            }
            forget();
            co_return status.error();
        }
        if (status->state == UploadStatus::done) {
            forget();
            co_return UploadResult{status->remote_id, status->duplicate};
        }
        if (status->state == UploadStatus::failed) {
            forget();
            co_return status->error.value_or(
                Error::permanent(std::string(m_platform.name) + ".upload_failed",
                                 fmt::format("{} could not process the upload {}", m_platform.title, upload_id)));
        }
        if (poll + 1 < m_policy.max_polls) {
            co_await m_sleep(delay);
            delay = std::min(delay * 2, m_policy.max_delay);
        }
    }
    if (!saved) remember(upload_id);
    co_return Error::transient(std::string(m_platform.name) + ".upload_pending",
                               fmt::format("{} is still processing upload {} after {} checks; it is checked again "
                                           "before any new upload of this activity",
                                           m_platform.title, upload_id, m_policy.max_polls));
}

struct UploadBatcher::Batch {
    explicit Batch(const boost::asio::any_io_executor& executor) : gather(executor), done(executor) {}
    std::vector<BatchItem> items;
    boost::asio::steady_timer gather;  // the sender's wait for more items; cancelled when full
    boost::asio::steady_timer done;    // the others' wait for the answer; cancelled when it is in
    std::optional<Result<std::vector<Result<std::string>>>> result;
};

Task<std::string> UploadBatcher::submit(BatchItem item) {
    namespace asio = boost::asio;
    const bool sender = !m_open;
    if (sender) {
        m_open = std::make_shared<Batch>(co_await asio::this_coro::executor);
        m_open->gather.expires_after(m_gather);
        m_open->done.expires_at(asio::steady_timer::time_point::max());
    }
    std::shared_ptr<Batch> batch = m_open;
    const size_t index = batch->items.size();
    batch->items.push_back(std::move(item));
    const bool full = batch->items.size() >= m_max;
    if (full) {
        m_open.reset();  // later uploads open the next batch
        batch->gather.cancel();
    }
    boost::system::error_code ec;
    if (sender) {
        // Whatever ends this coroutine (even cancellation), the others get an answer.
        struct Finish {
            Batch& b;
            ~Finish() {
                if (!b.result)
                    b.result = Error::transient("upload.cancelled", "the upload request was cancelled before sending");
                b.done.cancel();
            }
        } finish{*batch};
        if (!full) co_await batch->gather.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (m_open == batch) m_open.reset();
        ++m_requests;
        batch->result = co_await m_send(batch->items);
    } else {
        co_await batch->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!batch->result) co_return Error::transient("upload.cancelled", "the upload request was cancelled");
    if (!*batch->result) co_return batch->result->error();
    const auto& answers = **batch->result;
    if (index >= answers.size())
        co_return Error::transient("upload.short_answer",
                                   fmt::format("the upload answer has {} items for {} files; file {} is not among them",
                                               answers.size(), batch->items.size(), index + 1));
    co_return answers[index];
}

std::string check_gear_entry(std::string_view entry) {
    auto colon = entry.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == entry.size())
        return fmt::format("'{}' must be <sport family>:<gear id>, e.g. ride:b12345", entry);
    return {};
}

std::optional<std::string> gear_for(const OptionValues& options, std::string_view family) {
    for (const auto& entry : options.list("gear_map")) {
        const auto colon = entry.find(':');
        const std::string_view local = std::string_view(entry).substr(0, colon);
        if (local == family || local == "*") return entry.substr(colon + 1);
    }
    return std::nullopt;
}

boost::asio::awaitable<void> apply_gear_map(Provider& provider, const OptionValues& options,
                                            const std::string& remote_id, const UploadRequest& request) {
    if (request.summary == nullptr) co_return;
    auto gear = gear_for(options, request.summary->sport_family.value_or("other"));
    if (!gear) co_return;
    auto r = co_await provider.update_gear(remote_id, *gear);
    if (!r)
        log::warn("account {}: setting gear {} on {} failed: {}", provider.account_id(), *gear, remote_id,
                  r.error().message);
}

double match_tolerance(const config::Config* config) {
    return config != nullptr ? static_cast<double>(config->sync.match_tolerance_s) : 300.0;
}

std::optional<std::string> pick_by_start(const UploadRequest& request, const std::vector<RemoteActivity>& items,
                                         double tolerance_s) {
    if (request.summary == nullptr || !request.summary->start_time) return std::nullopt;
    const double start = *request.summary->start_time;
    const auto& family = request.summary->sport_family;
    const RemoteActivity* best = nullptr;
    for (const auto& item : items) {
        if (!item.start_time || std::abs(*item.start_time - start) > tolerance_s) continue;
        if (family && item.sport_family && *family != *item.sport_family) continue;
        if (best == nullptr || std::abs(*item.start_time - start) < std::abs(*best->start_time - start)) best = &item;
    }
    if (best == nullptr) return std::nullopt;
    return best->remote_id;
}

Task<std::optional<std::string>> find_by_start(const UploadRequest& request, ListWindow list, double tolerance_s) {
    if (request.summary == nullptr || !request.summary->start_time) co_return std::optional<std::string>{};
    const double start = *request.summary->start_time;
    auto items = co_await list(start - tolerance_s, start + tolerance_s + 1);
    if (!items) co_return items.error();
    co_return pick_by_start(request, *items, tolerance_s);
}

}  // namespace fitbridge::providers::kit
