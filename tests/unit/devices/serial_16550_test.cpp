#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "devices/serial_16550.hpp"

using namespace ktstr::vmm::devices;

namespace {

struct Uart {
    std::string out;
    int irqs = 0;
    Serial16550 uart{[this](ktstr::byte_view b) { out.append(b.begin(), b.end()); }, [this] { ++irqs; }};
};

}  // namespace

TEST_CASE("16550 reset state: transmitter empty, no interrupt, carrier present", "[devices][serial]") {
    Uart u;
    CHECK(u.uart.read(uart_lsr) == 0x60);  // THRE | TEMT, no data
    CHECK(u.uart.read(uart_iir_fcr) == 0x01);
    CHECK(u.uart.read(uart_ier_dlm) == 0);
    CHECK(u.uart.read(uart_lcr) == 0);
    CHECK(u.uart.read(uart_msr) == 0xb0);  // DCD | DSR | CTS
    CHECK(u.uart.read(8) == 0xff);
    CHECK(u.irqs == 0);
}

TEST_CASE("16550 sends THR bytes to the sink", "[devices][serial]") {
    Uart u;
    for (char c : std::string("Linux version 6.1\n"))
        u.uart.write(uart_rbr_thr_dll, static_cast<std::uint8_t>(c));
    CHECK(u.out == "Linux version 6.1\n");
    CHECK(u.uart.read(uart_lsr) == 0x60);  // still empty after every byte
    CHECK(u.irqs == 0);                    // THR-empty interrupt not enabled
}

TEST_CASE("16550 divisor latch", "[devices][serial]") {
    Uart u;
    u.uart.write(uart_lcr, 0x83);  // DLAB, 8N1
    u.uart.write(uart_rbr_thr_dll, 0x01);
    u.uart.write(uart_ier_dlm, 0x00);
    CHECK(u.uart.read(uart_rbr_thr_dll) == 0x01);
    CHECK(u.uart.read(uart_ier_dlm) == 0x00);
    CHECK(u.uart.divisor() == 1);  // 115200 baud
    u.uart.write(uart_ier_dlm, 0x02);
    CHECK(u.uart.divisor() == 0x0201);
    CHECK(u.out.empty());  // DLL writes are not data
    u.uart.write(uart_lcr, 0x03);
    CHECK(u.uart.read(uart_lcr) == 0x03);
    CHECK(u.uart.read(uart_ier_dlm) == 0);  // IER again, untouched by DLM writes
    u.uart.write(uart_rbr_thr_dll, 'A');
    CHECK(u.out == "A");
    CHECK(u.uart.divisor() == 0x0201);
}

TEST_CASE("16550 passes the Linux 8250 probe as a 16550A", "[devices][serial]") {
    Uart u;
    // IER test: only the low four bits exist.
    u.uart.write(uart_ier_dlm, 0);
    CHECK((u.uart.read(uart_ier_dlm) & 0x0f) == 0);
    u.uart.write(uart_ier_dlm, 0x0f);
    CHECK((u.uart.read(uart_ier_dlm) & 0x0f) == 0x0f);
    u.uart.write(uart_ier_dlm, 0);
    // Loopback test: MCR LOOP | OUT2 | RTS shows as DCD | CTS.
    u.uart.write(uart_mcr, 0x1a);
    CHECK((u.uart.read(uart_msr) & 0xf0) == 0x90);
    u.uart.write(uart_mcr, 0);
    // FIFO enabled: IIR bits 7:6 both set (16550A), bit 5 clear (not 16750).
    u.uart.write(uart_iir_fcr, 0x01);
    CHECK(u.uart.read(uart_iir_fcr) >> 6 == 3);
    u.uart.write(uart_iir_fcr, 0x21);
    CHECK(u.uart.read(uart_iir_fcr) >> 5 == 6);
    u.uart.write(uart_iir_fcr, 0);
    CHECK(u.uart.read(uart_iir_fcr) >> 6 == 0);
    // Scratch register.
    u.uart.write(uart_scr, 0xa5);
    CHECK(u.uart.read(uart_scr) == 0xa5);
    u.uart.write(uart_scr, 0x5a);
    CHECK(u.uart.read(uart_scr) == 0x5a);
}

TEST_CASE("16550 THR-empty interrupt as Linux's startup test sees it", "[devices][serial]") {
    Uart u;
    u.uart.write(uart_ier_dlm, 0x02);  // enable THRI: THR is empty, so it fires
    CHECK(u.irqs == 1);
    CHECK(u.uart.read(uart_iir_fcr) == 0x02);
    CHECK(u.uart.read(uart_iir_fcr) == 0x01);  // identified, so acknowledged
    u.uart.write(uart_ier_dlm, 0);
    u.uart.write(uart_ier_dlm, 0x02);  // re-enabling re-asserts it
    CHECK(u.irqs == 2);
    CHECK(u.uart.read(uart_iir_fcr) == 0x02);

    // Each byte written empties at once and raises THR-empty again.
    u.uart.write(uart_rbr_thr_dll, 'x');
    CHECK(u.irqs == 3);
    u.uart.write(uart_rbr_thr_dll, 'y');  // still pending: no new edge
    CHECK(u.irqs == 3);
    CHECK(u.uart.read(uart_iir_fcr) == 0x02);
    CHECK(u.out == "xy");
}

TEST_CASE("16550 receive: data ready, interrupt, FIFO order", "[devices][serial]") {
    Uart u;
    const std::uint8_t in[] = {'o', 'k'};
    CHECK(u.uart.receive(in) == 2);
    CHECK(u.irqs == 0);  // RDI not enabled
    CHECK((u.uart.read(uart_lsr) & 0x01) == 0x01);
    u.uart.write(uart_ier_dlm, 0x01);
    CHECK(u.irqs == 1);
    CHECK((u.uart.read(uart_iir_fcr) & 0x0f) == 0x04);
    CHECK(u.uart.read(uart_rbr_thr_dll) == 'o');
    CHECK(u.uart.read(uart_rbr_thr_dll) == 'k');
    CHECK((u.uart.read(uart_lsr) & 0x01) == 0);
    CHECK(u.uart.read(uart_iir_fcr) == 0x01);
    CHECK(u.uart.read(uart_rbr_thr_dll) == 0);  // empty FIFO reads as 0

    // Receive data outranks THR-empty.
    u.uart.write(uart_ier_dlm, 0x03);
    CHECK(u.uart.receive(in) == 2);
    CHECK((u.uart.read(uart_iir_fcr) & 0x0f) == 0x04);
    u.uart.write(uart_iir_fcr, 0x03);  // FIFO enable + clear receiver
    CHECK((u.uart.read(uart_lsr) & 0x01) == 0);
    CHECK(u.uart.read(uart_iir_fcr) == 0xc2);
}

TEST_CASE("16550 receive FIFO is bounded", "[devices][serial]") {
    Uart u;
    std::string big(Serial16550::receive_capacity + 10, 'q');
    CHECK(u.uart.receive(ktstr::as_bytes(big)) == Serial16550::receive_capacity);
    CHECK(u.uart.receive(ktstr::as_bytes(std::string("x"))) == 0);
}

TEST_CASE("16550 loopback returns written bytes to the receiver", "[devices][serial]") {
    Uart u;
    u.uart.write(uart_mcr, 0x10);
    u.uart.write(uart_rbr_thr_dll, 0x42);
    CHECK(u.out.empty());
    CHECK((u.uart.read(uart_lsr) & 0x01) == 0x01);
    CHECK(u.uart.read(uart_rbr_thr_dll) == 0x42);
}
