#include "devices/serial_16550.hpp"

#include <algorithm>

namespace ktstr::vmm::devices {

namespace {

constexpr std::uint8_t ier_rdi = 0x01;   // received data available
constexpr std::uint8_t ier_thri = 0x02;  // transmitter holding register empty
constexpr std::uint8_t ier_mask = 0x0f;

constexpr std::uint8_t iir_no_int = 0x01;
constexpr std::uint8_t iir_thri = 0x02;
constexpr std::uint8_t iir_rdi = 0x04;
constexpr std::uint8_t iir_fifo_enabled = 0xc0;

constexpr std::uint8_t fcr_enable_fifo = 0x01;
constexpr std::uint8_t fcr_clear_rcvr = 0x02;

constexpr std::uint8_t lcr_dlab = 0x80;

constexpr std::uint8_t mcr_dtr = 0x01;
constexpr std::uint8_t mcr_rts = 0x02;
constexpr std::uint8_t mcr_out1 = 0x04;
constexpr std::uint8_t mcr_out2 = 0x08;
constexpr std::uint8_t mcr_loop = 0x10;
constexpr std::uint8_t mcr_mask = 0x1f;

constexpr std::uint8_t lsr_dr = 0x01;
constexpr std::uint8_t lsr_thre = 0x20;
constexpr std::uint8_t lsr_temt = 0x40;

constexpr std::uint8_t msr_cts = 0x10;
constexpr std::uint8_t msr_dsr = 0x20;
constexpr std::uint8_t msr_ri = 0x40;
constexpr std::uint8_t msr_dcd = 0x80;

}  // namespace

Serial16550::Serial16550(OutputSink sink, IrqLine irq) : sink_(std::move(sink)), irq_(std::move(irq)) {}

std::uint8_t Serial16550::iir() const noexcept {
    std::uint8_t id = iir_no_int;
    if ((ier_ & ier_rdi) && !rx_.empty())
        id = iir_rdi;
    else if ((ier_ & ier_thri) && thr_empty_pending_)
        id = iir_thri;
    return static_cast<std::uint8_t>(id | (fifo_enabled_ ? iir_fifo_enabled : 0));
}

std::uint8_t Serial16550::msr() const noexcept {
    if (!(mcr_ & mcr_loop))
        return msr_dcd | msr_dsr | msr_cts;  // a peer is always there
    std::uint8_t v = 0;
    v |= (mcr_ & mcr_rts) ? msr_cts : 0;
    v |= (mcr_ & mcr_dtr) ? msr_dsr : 0;
    v |= (mcr_ & mcr_out1) ? msr_ri : 0;
    v |= (mcr_ & mcr_out2) ? msr_dcd : 0;
    return v;
}

void Serial16550::update_irq() {
    const bool pending = (iir() & iir_no_int) == 0;
    if (pending && !irq_pending_ && irq_)
        irq_();
    irq_pending_ = pending;
}

std::uint8_t Serial16550::read(std::uint8_t offset) {
    std::lock_guard lock(mutex_);
    std::uint8_t v = 0xff;
    switch (offset) {
    case uart_rbr_thr_dll:
        if (lcr_ & lcr_dlab) {
            v = static_cast<std::uint8_t>(divisor_ & 0xff);
        } else {
            v = rx_.empty() ? 0 : rx_.front();
            if (!rx_.empty())
                rx_.pop_front();
        }
        break;
    case uart_ier_dlm:
        v = (lcr_ & lcr_dlab) ? static_cast<std::uint8_t>(divisor_ >> 8) : ier_;
        break;
    case uart_iir_fcr:
        v = iir();
        // Identifying THR-empty acknowledges it (16550 datasheet).
        if ((v & 0x0f) == iir_thri)
            thr_empty_pending_ = false;
        break;
    case uart_lcr:
        v = lcr_;
        break;
    case uart_mcr:
        v = mcr_;
        break;
    case uart_lsr:
        v = static_cast<std::uint8_t>(lsr_thre | lsr_temt | (rx_.empty() ? 0 : lsr_dr));
        break;
    case uart_msr:
        v = msr();
        break;
    case uart_scr:
        v = scr_;
        break;
    default:
        break;
    }
    update_irq();
    return v;
}

void Serial16550::write(std::uint8_t offset, std::uint8_t value) {
    std::lock_guard lock(mutex_);
    switch (offset) {
    case uart_rbr_thr_dll:
        if (lcr_ & lcr_dlab) {
            divisor_ = static_cast<std::uint16_t>((divisor_ & 0xff00) | value);
            break;
        }
        if (mcr_ & mcr_loop) {
            if (rx_.size() < receive_capacity)
                rx_.push_back(value);
        } else if (sink_) {
            sink_(byte_view(&value, 1));
        }
        // The byte left at once: THR is empty again.
        thr_empty_pending_ = true;
        break;
    case uart_ier_dlm:
        if (lcr_ & lcr_dlab) {
            divisor_ = static_cast<std::uint16_t>((divisor_ & 0x00ff) | (value << 8));
            break;
        }
        // Enabling THR-empty while THR is empty raises it at once, which
        // Linux's startup test checks (else it polls the UART by timer).
        if ((value & ier_thri) && !(ier_ & ier_thri))
            thr_empty_pending_ = true;
        ier_ = value & ier_mask;
        break;
    case uart_iir_fcr:
        fifo_enabled_ = (value & fcr_enable_fifo) != 0;
        if (value & fcr_clear_rcvr)
            rx_.clear();
        break;
    case uart_lcr:
        lcr_ = value;
        break;
    case uart_mcr:
        mcr_ = value & mcr_mask;
        break;
    case uart_scr:
        scr_ = value;
        break;
    default:
        break;  // LSR and MSR are read-only
    }
    update_irq();
}

std::size_t Serial16550::receive(byte_view bytes) {
    std::lock_guard lock(mutex_);
    const std::size_t n = std::min(bytes.size(), receive_capacity - rx_.size());
    rx_.insert(rx_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    update_irq();
    return n;
}

std::uint16_t Serial16550::divisor() const {
    std::lock_guard lock(mutex_);
    return divisor_;
}

}  // namespace ktstr::vmm::devices
