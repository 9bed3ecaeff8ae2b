// SHA-256 through OpenSSL's libcrypto (EVP): the build key and the source
// identities are digests, and a well-kept library computes them. The
// library is opened at the first digest, not linked (sha256.cpp says why).
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace ktstr::vmm::kernel_build {

class Sha256 {
public:
    Sha256();  // throws std::runtime_error when libcrypto cannot be loaded or set up SHA-256
    Sha256& update(std::string_view bytes);
    // A field of a composite digest: its length, then its bytes, so
    // ("ab", "c") and ("a", "bc") differ.
    Sha256& field(std::string_view bytes);
    std::string hex();  // the digest as 64 lowercase hex digits; once

    struct Free {  // frees the EVP_MD_CTX
        void operator()(void* ctx) const;
    };

private:
    std::unique_ptr<void, Free> ctx_;
};

std::string sha256_hex(std::string_view bytes);

}  // namespace ktstr::vmm::kernel_build
