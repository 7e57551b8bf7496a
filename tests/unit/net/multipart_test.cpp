#include "net/multipart.hpp"

#include <gtest/gtest.h>

namespace fitbridge::net {
namespace {

TEST(Multipart, FramesFieldsAndFileExactly) {
    auto frame = build_multipart({{"name", "Ride"}}, {"file", "a.fit", "application/octet-stream"}, "B0UND");
    EXPECT_EQ(frame.content_type, "multipart/form-data; boundary=B0UND");
    EXPECT_EQ(frame.head,
              "--B0UND\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nRide\r\n"
              "--B0UND\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.fit\"\r\n"
              "Content-Type: application/octet-stream\r\n\r\n");
    EXPECT_EQ(frame.tail, "\r\n--B0UND--\r\n");
}

TEST(Multipart, RoundTripsThroughTheParser) {
    std::string data("\x0e\x10\x00\x00.FIT\r\n--B\r\n", 16);
    auto frame = build_multipart({{"description", "line1\r\nline2"}, {"external_id", "x\"y"}},
                                 {"file", "we\"ird.fit", "application/vnd.ant.fit"});
    auto parts = parse_multipart(frame.content_type, frame.head + data + frame.tail);
    ASSERT_TRUE(parts.ok()) << parts.error().message;
    ASSERT_EQ(parts->size(), 3u);
    EXPECT_EQ((*parts)[0].name, "description");
    EXPECT_EQ((*parts)[0].data, "line1\r\nline2");
    EXPECT_EQ((*parts)[1].data, "x\"y");
    EXPECT_EQ((*parts)[2].filename, "we%22ird.fit");
    EXPECT_EQ((*parts)[2].content_type, "application/vnd.ant.fit");
    EXPECT_EQ((*parts)[2].data, data);
}

TEST(Multipart, BoundariesAreRandom) {
    auto a = make_boundary();
    auto b = make_boundary();
    EXPECT_NE(a, b);
    EXPECT_EQ(a.size(), 42u);
    EXPECT_EQ(a.rfind("fitbridge-", 0), 0u);
}

TEST(Multipart, UploadRequestStreamsTheFile) {
    HttpRequest req;
    req.headers = {{"content-type", "application/json"}};
    set_multipart_upload(req, {}, {"file", "r.gpx", "application/gpx+xml"}, "/tmp/r.gpx");
    ASSERT_EQ(req.headers.size(), 1u);
    EXPECT_EQ(req.headers[0].first, "Content-Type");
    EXPECT_EQ(req.headers[0].second.rfind("multipart/form-data; boundary=fitbridge-", 0), 0u);
    EXPECT_EQ(req.body_file, std::filesystem::path("/tmp/r.gpx"));
    EXPECT_NE(req.body.find("filename=\"r.gpx\""), std::string::npos);
    EXPECT_EQ(req.body_suffix.rfind("\r\n--fitbridge-", 0), 0u);
}

TEST(Multipart, MalformedBodiesAreErrors) {
    EXPECT_FALSE(parse_multipart("multipart/form-data", "x").ok());
    EXPECT_FALSE(parse_multipart("multipart/form-data; boundary=B", "no delimiter").ok());
    auto r =
        parse_multipart("multipart/form-data; boundary=B", "--B\r\nContent-Disposition: form-data; name=a\r\n\r\nv");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "net.multipart");
}

}  // namespace
}  // namespace fitbridge::net
