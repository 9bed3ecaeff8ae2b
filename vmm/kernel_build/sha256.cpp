#include "kernel_build/sha256.hpp"

#include <stdexcept>
#include <string>

#include <dlfcn.h>

#include <fmt/core.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>

namespace ktstr::vmm::kernel_build {
namespace {

// libcrypto is opened the first time a digest is taken, not linked: only
// `kernel build` hashes, and a linked libcrypto costs every ktstr-vmm
// process, `run` included, about 1.4 MiB of resident memory (the loader
// reads its symbol tables and relocates its method tables at start;
// docs/benchmarks.md, "Own memory"). The same library and calls as a
// link would give: the headers' major version names the file.
struct Crypto {
    EVP_MD_CTX* (*ctx_new)();
    void (*ctx_free)(EVP_MD_CTX*);
    const EVP_MD* (*sha256)();
    int (*init)(EVP_MD_CTX*, const EVP_MD*, ENGINE*);
    int (*update)(EVP_MD_CTX*, const void*, size_t);
    int (*final)(EVP_MD_CTX*, unsigned char*, unsigned int*);
};

template <typename F>
void resolve(void* handle, F& f, const char* name) {
    f = reinterpret_cast<F>(::dlsym(handle, name));
    if (f == nullptr)
        throw std::runtime_error(fmt::format("libcrypto: no {}", name));
}

Crypto load() {
    const std::string library = fmt::format("libcrypto.so.{}", OPENSSL_VERSION_MAJOR);
    // Never closed: the process keeps it, as it would a linked library.
    void* handle = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* why = ::dlerror();
        throw std::runtime_error(fmt::format("libcrypto: cannot load {}: {}", library, why ? why : "?"));
    }
    Crypto c{};
    resolve(handle, c.ctx_new, "EVP_MD_CTX_new");
    resolve(handle, c.ctx_free, "EVP_MD_CTX_free");
    resolve(handle, c.sha256, "EVP_sha256");
    resolve(handle, c.init, "EVP_DigestInit_ex");
    resolve(handle, c.update, "EVP_DigestUpdate");
    resolve(handle, c.final, "EVP_DigestFinal_ex");
    return c;
}

const Crypto& crypto() {
    static const Crypto c = load();  // a failed load throws, and the next call tries again
    return c;
}

EVP_MD_CTX* ctx_of(const std::unique_ptr<void, Sha256::Free>& p) { return static_cast<EVP_MD_CTX*>(p.get()); }

}  // namespace

void Sha256::Free::operator()(void* ctx) const { crypto().ctx_free(static_cast<EVP_MD_CTX*>(ctx)); }

Sha256::Sha256() : ctx_(crypto().ctx_new()) {
    if (!ctx_ || crypto().init(ctx_of(ctx_), crypto().sha256(), nullptr) != 1)
        throw std::runtime_error("libcrypto: cannot set up SHA-256");
}

Sha256& Sha256::update(std::string_view bytes) {
    if (crypto().update(ctx_of(ctx_), bytes.data(), bytes.size()) != 1)
        throw std::runtime_error("libcrypto: SHA-256 update failed");
    return *this;
}

Sha256& Sha256::field(std::string_view bytes) {
    update(fmt::format("{}:", bytes.size()));
    return update(bytes);
}

std::string Sha256::hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (crypto().final(ctx_of(ctx_), digest, &size) != 1)
        throw std::runtime_error("libcrypto: SHA-256 final failed");
    std::string out;
    for (unsigned int i = 0; i < size; ++i)
        out += fmt::format("{:02x}", digest[i]);
    return out;
}

std::string sha256_hex(std::string_view bytes) { return Sha256().update(bytes).hex(); }

}  // namespace ktstr::vmm::kernel_build
