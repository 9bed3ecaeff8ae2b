// A 16550A UART at eight I/O ports (COM1 0x3f8 IRQ 4, COM2 0x2f8 IRQ 3),
// enough for Linux's 8250 driver to probe it as a 16550A, use it as the
// kernel console and as /dev/ttyS<N> with interrupts.
//
// Transmission is instant: the transmitter is always empty (LSR THRE and
// TEMT set), each byte written to THR goes straight to the output sink.
// Received bytes (receive()) wait in a bounded FIFO. Interrupts: received
// data available and THR empty, reported through IIR by priority; the line
// gets one edge each time the UART goes from no pending interrupt to one,
// as an ISA interrupt pin does. The FIFO-enabled bits of IIR follow FCR,
// which is what makes Linux pick the 16550A type with its 16-byte FIFO
// (16 bytes per THR-empty interrupt instead of one). Loopback (MCR bit 4)
// feeds written bytes back to the receiver and reflects the modem control
// outputs in MSR, as the driver's probe expects.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>

#include "devices/irq_line.hpp"
#include "ktstr/common/bytes.hpp"

namespace ktstr::vmm::devices {

// Register offsets from the base port.
inline constexpr std::uint8_t uart_rbr_thr_dll = 0;
inline constexpr std::uint8_t uart_ier_dlm = 1;
inline constexpr std::uint8_t uart_iir_fcr = 2;
inline constexpr std::uint8_t uart_lcr = 3;
inline constexpr std::uint8_t uart_mcr = 4;
inline constexpr std::uint8_t uart_lsr = 5;
inline constexpr std::uint8_t uart_msr = 6;
inline constexpr std::uint8_t uart_scr = 7;
inline constexpr std::uint8_t uart_register_count = 8;

class Serial16550 {
public:
    // Receives each transmitted byte, with the UART locked: it must not
    // block for long or call back into the UART.
    using OutputSink = std::function<void(byte_view bytes)>;

    static constexpr std::size_t receive_capacity = 4096;

    Serial16550(OutputSink sink, IrqLine irq);

    Serial16550(const Serial16550&) = delete;
    Serial16550& operator=(const Serial16550&) = delete;

    // A guest in/out at `offset` from the base port; offsets past 7 read
    // 0xff and ignore writes.
    std::uint8_t read(std::uint8_t offset);
    void write(std::uint8_t offset, std::uint8_t value);

    // Host input for the guest; returns how many bytes fit in the FIFO.
    std::size_t receive(byte_view bytes);

    std::uint16_t divisor() const;  // the baud rate divisor the guest set

private:
    std::uint8_t iir() const noexcept;
    std::uint8_t msr() const noexcept;
    void update_irq();

    const OutputSink sink_;
    const IrqLine irq_;

    mutable std::mutex mutex_;
    std::uint8_t ier_ = 0;
    std::uint8_t lcr_ = 0;
    std::uint8_t mcr_ = 0;
    std::uint8_t scr_ = 0;
    std::uint16_t divisor_ = 12;  // 9600 baud from the 1.8432 MHz clock
    bool fifo_enabled_ = false;
    bool thr_empty_pending_ = false;  // THR-empty interrupt not yet identified through IIR
    bool irq_pending_ = false;        // the line's level before the last change
    std::deque<std::uint8_t> rx_;
};

}  // namespace ktstr::vmm::devices
