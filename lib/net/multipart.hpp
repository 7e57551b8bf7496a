#pragma once
// multipart/form-data framing (RFC 7578) for uploads: text fields and one
// file part whose bytes can be streamed from disk between a head and a tail.
// Also a parser, for fake servers and tests.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "net/http_client.hpp"

namespace fitbridge::net {

struct MultipartField {
    std::string name;
    std::string value;
};

struct MultipartFile {
    std::string field_name = "file";
    std::string filename;
    std::string content_type = "application/octet-stream";
};

struct MultipartFrame {
    std::string content_type;  // multipart/form-data; boundary=...
    std::string head;          // every text field, then the file part's headers
    std::string tail;          // the file part's end and the closing boundary
};

// 32 random alphanumeric characters behind a fixed prefix.
std::string make_boundary();
// Frames `fields` and `file`: a body is head + file bytes + tail.
MultipartFrame build_multipart(const std::vector<MultipartField>& fields, const MultipartFile& file,
                               std::string boundary = make_boundary());
// Makes `request` upload `path` as the file part, streamed (body, body_file,
// body_suffix and Content-Type are set).
void set_multipart_upload(HttpRequest& request, const std::vector<MultipartField>& fields, const MultipartFile& file,
                          const std::filesystem::path& path);

struct MultipartPart {
    std::string name;
    std::string filename;  // empty for text fields
    std::string content_type;
    std::string data;
};

// Splits a multipart/form-data body using the boundary from `content_type`;
// malformed framing is a permanent error.
Result<std::vector<MultipartPart>> parse_multipart(std::string_view content_type, std::string_view body);

}  // namespace fitbridge::net
