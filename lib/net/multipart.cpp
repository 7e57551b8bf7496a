#include "net/multipart.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdint>

#include "core/hash.hpp"

namespace fitbridge::net {

namespace {

// Quoted-string parameters cannot carry quotes or line breaks; browsers
// percent-encode them, which servers undo or keep harmlessly.
std::string quote_param(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '"')
            out += "%22";
        else if (c == '\r')
            out += "%0D";
        else if (c == '\n')
            out += "%0A";
        else
            out += c;
    }
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// The value of `name="..."` (or unquoted) in a header's parameters.
std::string header_param(std::string_view header, std::string_view name) {
    std::string lowered = lower(header);
    size_t pos = 0;
    while ((pos = lowered.find(std::string(name) + "=", pos)) != std::string::npos) {
        bool boundary_ok = pos == 0 || lowered[pos - 1] == ';' || lowered[pos - 1] == ' ';
        pos += name.size() + 1;
        if (!boundary_ok) continue;
        if (pos < header.size() && header[pos] == '"') {
            auto end = header.find('"', pos + 1);
            return std::string(header.substr(pos + 1, end == std::string_view::npos ? end : end - pos - 1));
        }
        auto end = header.find(';', pos);
        auto v = header.substr(pos, end == std::string_view::npos ? end : end - pos);
        while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
        return std::string(v);
    }
    return {};
}

Error malformed(std::string_view why) {
    return Error::permanent("net.multipart", fmt::format("malformed multipart body: {}", why));
}

}  // namespace

std::string make_boundary() {
    static constexpr std::string_view k_alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::array<uint8_t, 32> bytes{};
    random_bytes(bytes);
    std::string out = "fitbridge-";
    for (auto b : bytes) out += k_alphabet[b % k_alphabet.size()];
    return out;
}

MultipartFrame build_multipart(const std::vector<MultipartField>& fields, const MultipartFile& file,
                               std::string boundary) {
    MultipartFrame frame;
    frame.content_type = "multipart/form-data; boundary=" + boundary;
    for (const auto& f : fields) {
        frame.head += fmt::format("--{}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n{}\r\n", boundary,
                                  quote_param(f.name), f.value);
    }
    frame.head += fmt::format("--{}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\n", boundary,
                              quote_param(file.field_name), quote_param(file.filename));
    frame.head += fmt::format("Content-Type: {}\r\n\r\n", file.content_type);
    frame.tail = fmt::format("\r\n--{}--\r\n", boundary);
    return frame;
}

void set_multipart_upload(HttpRequest& request, const std::vector<MultipartField>& fields, const MultipartFile& file,
                          const std::filesystem::path& path) {
    auto frame = build_multipart(fields, file);
    std::erase_if(request.headers, [](const auto& kv) { return lower(kv.first) == "content-type"; });
    request.headers.emplace_back("Content-Type", frame.content_type);
    request.body = std::move(frame.head);
    request.body_suffix = std::move(frame.tail);
    request.body_file = path;
}

Result<std::vector<MultipartPart>> parse_multipart(std::string_view content_type, std::string_view body) {
    std::string boundary = header_param(content_type, "boundary");
    if (boundary.empty()) return malformed("no boundary in Content-Type");
    const std::string delimiter = "--" + boundary;
    std::vector<MultipartPart> parts;
    size_t pos = body.find(delimiter);
    if (pos == std::string_view::npos) return malformed("no opening boundary");
    pos += delimiter.size();
    for (;;) {
        if (body.substr(pos, 2) == "--") return parts;  // closing delimiter
        if (body.substr(pos, 2) != "\r\n") return malformed("boundary not followed by CRLF");
        pos += 2;
        auto headers_end = body.find("\r\n\r\n", pos);
        if (headers_end == std::string_view::npos) return malformed("part headers not terminated");
        MultipartPart part;
        auto headers = body.substr(pos, headers_end - pos);
        while (!headers.empty()) {
            auto eol = headers.find("\r\n");
            auto line = headers.substr(0, eol);
            auto colon = line.find(':');
            if (colon != std::string_view::npos) {
                auto name = lower(line.substr(0, colon));
                auto value = line.substr(colon + 1);
                while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
                if (name == "content-disposition") {
                    part.name = header_param(value, "name");
                    part.filename = header_param(value, "filename");
                } else if (name == "content-type") {
                    part.content_type = std::string(value);
                }
            }
            if (eol == std::string_view::npos) break;
            headers.remove_prefix(eol + 2);
        }
        auto data_start = headers_end + 4;
        auto next = body.find("\r\n" + delimiter, data_start);
        if (next == std::string_view::npos) return malformed("part not terminated by a boundary");
        part.data = std::string(body.substr(data_start, next - data_start));
        parts.push_back(std::move(part));
        pos = next + 2 + delimiter.size();
    }
}

}  // namespace fitbridge::net
