#include "kernel_build/sha256.hpp"

#include <stdexcept>

#include <fmt/core.h>
#include <openssl/evp.h>

namespace ktstr::vmm::kernel_build {
namespace {

EVP_MD_CTX* ctx_of(const std::unique_ptr<void, Sha256::Free>& p) { return static_cast<EVP_MD_CTX*>(p.get()); }

}  // namespace

void Sha256::Free::operator()(void* ctx) const { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx)); }

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_of(ctx_), EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("libcrypto: cannot set up SHA-256");
}

Sha256& Sha256::update(std::string_view bytes) {
    if (EVP_DigestUpdate(ctx_of(ctx_), bytes.data(), bytes.size()) != 1)
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
    if (EVP_DigestFinal_ex(ctx_of(ctx_), digest, &size) != 1)
        throw std::runtime_error("libcrypto: SHA-256 final failed");
    std::string out;
    for (unsigned int i = 0; i < size; ++i)
        out += fmt::format("{:02x}", digest[i]);
    return out;
}

std::string sha256_hex(std::string_view bytes) { return Sha256().update(bytes).hex(); }

}  // namespace ktstr::vmm::kernel_build
