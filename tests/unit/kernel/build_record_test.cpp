// build.json written and read back.
#include <catch2/catch.hpp>

#include <fstream>

#include "kernel_build/build_record.hpp"
#include "ktstr/test/temp_dir.hpp"

using namespace ktstr::vmm::kernel_build;
using ktstr::test::TempDir;

TEST_CASE("a build record round-trips through build.json", "[kernel_build]") {
    BuildRecord r;
    r.name = "mine";
    r.key = std::string(64, 'a');
    r.recipe = std::string(64, 'b');
    r.source = "linux-source-6.12 6.12.118-1~deb12u1";
    r.source_identity = r.source;
    r.fragments = {{"lean-vm.config", std::string(64, 'c')}, {"/tmp/usb.config", std::string(64, 'd')}};
    r.release = "6.12.118-ktstr-aaaaaaaaaaaa";
    r.jobs = 2;
    r.objects = 2113;
    r.seconds = {{"source", 0.04}, {"config", 21.26}, {"compile", 480.0}};
    r.built_at = "2025-06-01T12:00:00Z";
    TempDir d{"kbuild"};
    const auto json = to_json(r);
    CHECK(json.find("\"name\": \"mine\"") != std::string::npos);
    CHECK(json.find("\"config\": 21.3") != std::string::npos);  // tenths of a second
    d.write(build_record_path, json);
    const auto back = read_build_record(d.path());
    REQUIRE(back);
    CHECK(back->name == "mine");
    CHECK(back->key == r.key);
    CHECK(back->recipe == r.recipe);
    REQUIRE(back->fragments.size() == 2);
    CHECK(back->fragments[1].name == "/tmp/usb.config");
    CHECK(back->release == r.release);
    CHECK(back->objects == 2113);
    REQUIRE(back->seconds.size() == 3);
    CHECK(back->seconds[0].first == "source");  // phase order kept
    CHECK(back->seconds[2].first == "compile");

    r.name.clear();
    d.write(build_record_path, to_json(r));
    CHECK(to_json(r).find("\"name\": null") != std::string::npos);
    CHECK(read_build_record(d.path())->name.empty());
    d.write(build_record_path, "{ not json");
    CHECK_FALSE(read_build_record(d.path()));
    CHECK_FALSE(read_build_record(d.path() / "none"));
}
