// Apple Health exports are often over a gigabyte: a 2 GiB export.xml is
// listed and a workout's file built from it (both passes over the XML) while
// the process's peak resident memory stays under 64 MiB.

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>

#include "provider_test_util.hpp"
#include "providers/health_export/health_export.hpp"
#include "support/health_export.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define FITBRIDGE_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FITBRIDGE_UNDER_ASAN 1
#endif
#endif

namespace fitbridge::providers::health_export {
namespace {

namespace fs = std::filesystem;
namespace synth = fitbridge::test;

// VmHWM of this process, in KiB.
long peak_rss_kib() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.starts_with("VmHWM:")) return std::stol(line.substr(6));
    return -1;
}

TEST(HealthExportMemory, ATwoGibExportIsReadInUnder64MibOfMemory) {
#ifdef FITBRIDGE_UNDER_ASAN
    GTEST_SKIP() << "resident memory is not the program's own under AddressSanitizer";
#endif
    test::TempDir dir;
    const fs::path root = dir / "apple_health_export";
    std::vector<synth::SynthWorkout> workouts;
    for (int i = 0; i < 20; ++i)
        workouts.push_back({.start = 1654061400.0 + i * 3 * 86400, .minutes = 60, .type = "Cycling", .km = 30});
    auto members = synth::apple_export_members(workouts);
    std::string xml = std::move(members[0].second);
    members.erase(members.begin());
    synth::write_tree(dir.path(), members);

    // Years of heart rate and steps outside the workouts fill it to 2 GiB.
    std::string block;
    for (int i = 0; block.size() < (1u << 20); ++i) {
        const std::string d = synth::apple_date(1.42e9 + i * 300, 60);
        block +=
            " <Record type=\"HKQuantityTypeIdentifierHeartRate\" sourceName=\"Alice's Apple Watch\" "
            "unit=\"count/min\" creationDate=\"" +
            d + "\" startDate=\"" + d + "\" endDate=\"" + d +
            "\" value=\"61\">\n  <MetadataEntry key=\"HKMetadataKeyHeartRateMotionContext\" value=\"1\"/>\n"
            " </Record>\n <Record type=\"HKQuantityTypeIdentifierStepCount\" sourceName=\"iPhone\" "
            "unit=\"count\" startDate=\"" +
            d + "\" endDate=\"" + d + "\" value=\"12\"/>\n";
    }
    const size_t cut = xml.find("<Record");
    {
        std::unique_ptr<FILE, int (*)(FILE*)> out(std::fopen((root / "export.xml").c_str(), "wb"), &std::fclose);
        ASSERT_TRUE(out);
        std::fwrite(xml.data(), 1, cut, out.get());
        for (uint64_t written = 0; written < (2ull << 30); written += block.size())
            ASSERT_EQ(std::fwrite(block.data(), 1, block.size(), out.get()), block.size());
        std::fwrite(xml.data() + cut, 1, xml.size() - cut, out.get());
    }
    ASSERT_GT(fs::file_size(root / "export.xml"), 2ull << 30);
    xml.clear();
    xml.shrink_to_fit();
    block.clear();
    block.shrink_to_fit();
    members.clear();

    // Peak memory counts from here.
    if (std::FILE* f = std::fopen("/proc/self/clear_refs", "w")) {
        std::fputs("5", f);
        std::fclose(f);
    }
    boost::asio::io_context io;
    config::AccountConfig account;
    account.id = "health";
    account.provider = "health_export";
    account.options = {{"path", dir.path().string()}, {"settle_time", "0"}};
    auto p = factory().create(account, Context{.executor = io.get_executor()});
    ASSERT_TRUE(p) << p.error().message;
    auto page = test::run(io, (*p)->list({}), std::chrono::minutes(10));
    ASSERT_TRUE(page) << page.error().message;
    ASSERT_EQ(page->items.size(), 20u);
    auto file = test::run(io, (*p)->download(page->items[7]), std::chrono::minutes(10));
    ASSERT_TRUE(file) << file.error().message;
    const auto s = formats::decode(test::bytes_of(*file));
    EXPECT_EQ(s.start_time, 1654061400.0 + 7 * 3 * 86400);
    EXPECT_EQ(s.rec_max_hr, 159);  // the workout's own samples, none of the filler's
    const long peak = peak_rss_kib();
    EXPECT_GT(peak, 0);
    EXPECT_LT(peak, 64 * 1024) << "peak resident memory " << peak << " KiB";
    std::printf("peak resident memory over a 2 GiB export: %ld KiB\n", peak);
}

}  // namespace
}  // namespace fitbridge::providers::health_export
