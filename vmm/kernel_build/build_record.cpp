#include "kernel_build/build_record.hpp"

#include <fstream>

#include <nlohmann/json.hpp>

namespace ktstr::vmm::kernel_build {

std::string to_json(const BuildRecord& r) {
    nlohmann::ordered_json j;
    j["name"] = r.name.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.name);
    j["key"] = r.key;
    j["recipe"] = r.recipe;
    j["source"] = r.source;
    j["source_identity"] = r.source_identity;
    j["fragments"] = nlohmann::ordered_json::array();
    for (const auto& f : r.fragments)
        j["fragments"].push_back({{"name", f.name}, {"sha256", f.sha256}});
    j["release"] = r.release;
    j["jobs"] = r.jobs;
    j["objects"] = r.objects;
    j["seconds"] = nlohmann::ordered_json::object();
    for (const auto& [phase, s] : r.seconds)
        j["seconds"][phase] = static_cast<double>(static_cast<long long>(s * 10 + 0.5)) / 10;
    j["built_at"] = r.built_at;
    return j.dump(2) + "\n";
}

std::optional<BuildRecord> read_build_record(const std::filesystem::path& release_dir) {
    std::ifstream in(release_dir / build_record_path);
    if (!in)
        return std::nullopt;
    try {
        const auto j = nlohmann::ordered_json::parse(in);
        BuildRecord r;
        if (j.at("name").is_string())
            r.name = j.at("name").get<std::string>();
        r.key = j.at("key").get<std::string>();
        r.recipe = j.value("recipe", "");
        r.source = j.value("source", "");
        r.source_identity = j.value("source_identity", "");
        if (const auto f = j.find("fragments"); f != j.end() && f->is_array())
            for (const auto& e : *f)
                r.fragments.push_back({e.value("name", ""), e.value("sha256", "")});
        r.release = j.at("release").get<std::string>();
        r.jobs = j.value("jobs", 0);
        r.objects = j.value("objects", std::uint64_t{0});
        if (const auto s = j.find("seconds"); s != j.end() && s->is_object())
            for (const auto& [phase, t] : s->items())
                r.seconds.emplace_back(phase, t.get<double>());
        r.built_at = j.value("built_at", "");
        return r;
    } catch (const nlohmann::ordered_json::exception&) {
        return std::nullopt;
    }
}

}  // namespace ktstr::vmm::kernel_build
