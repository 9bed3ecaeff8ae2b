// The reset-vector stub: real-mode machine code, assembled by hand.
#include "arch/x86_64/reset_vector.hpp"

#include "arch/x86_64/acpi/sleep_control.hpp"

namespace ktstr::vmm::x86_64 {

byte_buffer build_reset_vector() {
    constexpr std::uint8_t mov_dx_imm16 = 0xba;
    constexpr std::uint8_t mov_al_imm8 = 0xb0;
    constexpr std::uint8_t out_dx_al = 0xee;
    constexpr std::uint8_t hlt = 0xf4;
    constexpr std::uint8_t jmp_rel8 = 0xeb;
    byte_buffer code{
        mov_dx_imm16, static_cast<std::uint8_t>(acpi::reset_port), static_cast<std::uint8_t>(acpi::reset_port >> 8),
        mov_al_imm8,  acpi::reset_value,
        out_dx_al,
        hlt,
        jmp_rel8,     static_cast<std::uint8_t>(-3),  // back to hlt: an NMI must not run on into zeroes
    };
    code.resize(reset_vector_size, hlt);
    return code;
}

}  // namespace ktstr::vmm::x86_64
