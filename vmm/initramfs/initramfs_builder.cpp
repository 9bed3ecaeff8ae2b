#include "initramfs/initramfs_builder.hpp"

#include <fmt/core.h>

#include "initramfs/compressed_file_writer.hpp"
#include "initramfs/cpio_writer.hpp"
#include "initramfs/image_cache.hpp"
#include "initramfs/module_info.hpp"
#include "initramfs/stripped_binary.hpp"

namespace ktstr::vmm::initramfs {
namespace fs = std::filesystem;
namespace {

byte_view bytes_of(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

std::string file_name(const std::string& key, Compression c) {
    switch (c) {
    case Compression::gzip: return key + ".cpio.gz";
    case Compression::zstd: return key + ".cpio.zst";
    default: return key + ".cpio";
    }
}

}  // namespace

void write_initramfs(const InitramfsPlan& plan, const fs::path& out) {
    CompressedFileWriter file(out, plan.compression);
    CpioWriter cpio([&](byte_view b) { file.write(b); });
    for (const auto& e : plan.entries) {
        switch (e.kind) {
        case PlanEntry::Kind::directory: cpio.directory(e.path, e.mode); break;
        case PlanEntry::Kind::host_file:
            if (e.decompress)
                cpio.file(e.path, read_module_file(e.host), e.mode);
            else if (e.strip_debug)
                cpio.host_file(e.path, stripped_binary(e.host), e.mode);
            else
                cpio.host_file(e.path, e.host, e.mode);
            break;
        case PlanEntry::Kind::data: cpio.file(e.path, bytes_of(e.data), e.mode); break;
        case PlanEntry::Kind::symlink: cpio.symlink(e.path, e.data); break;
        case PlanEntry::Kind::char_device: cpio.char_device(e.path, e.major, e.minor, e.mode); break;
        }
    }
    cpio.finish();
    file.finish();
}

BuiltInitramfs build_initramfs(const InitramfsSpec& spec) {
    BuiltInitramfs b;
    b.plan = plan_initramfs(spec);
    b.key = plan_key(b.plan);
    const auto cached = cached_file(file_name(b.key, b.plan.compression),
                                    [&](const fs::path& temp) { write_initramfs(b.plan, temp); });
    b.path = cached.path;
    b.from_cache = cached.hit;
    if (!cached.hit)
        prune_image_cache(cached_images_kept);
    return b;
}

}  // namespace ktstr::vmm::initramfs
