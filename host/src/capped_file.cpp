#include "ktstr/host/capped_file.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>

#include "ktstr/common/fd_write.hpp"

namespace ktstr::host {

CappedFile::CappedFile(std::filesystem::path path, std::uint64_t max_bytes)
    : path_(std::move(path)), max_bytes_(max_bytes) {}

bool CappedFile::write(byte_view bytes) {
    if (!error_.empty()) {
        left_out_ += bytes.size();
        return false;
    }
    if (bytes.empty())
        return true;
    if (!fd_) {
        fd_ = UniqueFd(::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!fd_) {
            error_ = path_.string() + ": cannot create: " + std::strerror(errno);
            left_out_ += bytes.size();
            return false;
        }
    }
    const std::uint64_t room = max_bytes_ - written_;
    const bool over = bytes.size() > room;
    const auto take = over ? bytes.first(static_cast<std::size_t>(room)) : bytes;
    if (!take.empty() && !write_all(fd_.get(), take)) {
        error_ = path_.string() + ": write failed: " + std::strerror(errno);
        left_out_ += bytes.size();
        return false;
    }
    written_ += take.size();
    if (over) {
        if (left_out_ == 0) {
            // Said once, in the file itself, where a reader looks first.
            const std::string note =
                "\n[ktstr-vmm: this file reached its cap of " + std::to_string(max_bytes_) + " bytes; the rest was left out]\n";
            (void)write_all(fd_.get(), as_bytes(note));
        }
        left_out_ += bytes.size() - take.size();
    }
    return true;
}

OutputSink capped_file_sink(std::shared_ptr<CappedFile> file) {
    return [file = std::move(file)](byte_view bytes) { return file->write(bytes); };
}

}  // namespace ktstr::host
