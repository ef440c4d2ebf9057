//! Boards as data: one table shared by the planner's `--board` budget and the
//! firmware exporter (target, memory map, how to flash, where output goes).

/// Where a board's firmware prints its output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputChannel {
    /// ARM semihosting (QEMU); the exit code carries pass/fail.
    Semihosting,
    /// SEGGER RTT over the debug probe (real boards).
    Rtt,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Board {
    pub name: &'static str,
    pub description: &'static str,
    /// Rust target triple.
    pub target: &'static str,
    pub flash_origin: u32,
    pub flash_bytes: u32,
    pub ram_origin: u32,
    /// SRAM available to the program (the SRAM budget for the arena, stack and statics).
    pub ram_bytes: u32,
    /// probe-rs chip name (empty for QEMU).
    pub probe_chip: &'static str,
    pub output: OutputChannel,
    /// Core clock the latency estimate divides by (the board's usual
    /// maximum; QEMU's mps2 machines model a 25 MHz system clock).
    pub clock_hz: u32,
}

impl Board {
    /// Armv7E-M (Cortex-M4/M7) has the DSP extension the optimized kernels use
    /// (`patchwise-core` feature `dsp`); Armv6-M (Cortex-M0+) does not.
    pub fn has_dsp(&self) -> bool {
        self.target.starts_with("thumbv7em")
    }
}

pub const BOARDS: &[Board] = &[
    Board {
        name: "stm32f746g-disco",
        description: "STM32F746G-DISCO (Cortex-M7 216 MHz, 1 MB flash, 320 KB SRAM) — the MCUNetV2 paper's board",
        target: "thumbv7em-none-eabihf",
        flash_origin: 0x0800_0000,
        flash_bytes: 1024 * 1024,
        ram_origin: 0x2000_0000,
        ram_bytes: 320 * 1024,
        probe_chip: "STM32F746NGHx",
        output: OutputChannel::Rtt,
        clock_hz: 216_000_000,
    },
    Board {
        name: "nucleo-h743zi",
        description: "NUCLEO-H743ZI (Cortex-M7 480 MHz, 2 MB flash, 512 KB AXI SRAM)",
        target: "thumbv7em-none-eabihf",
        flash_origin: 0x0800_0000,
        flash_bytes: 2 * 1024 * 1024,
        ram_origin: 0x2400_0000,
        ram_bytes: 512 * 1024,
        probe_chip: "STM32H743ZITx",
        output: OutputChannel::Rtt,
        clock_hz: 480_000_000,
    },
    Board {
        name: "nrf52840-dk",
        description: "nRF52840-DK (Cortex-M4F 64 MHz, 1 MB flash, 256 KB SRAM)",
        target: "thumbv7em-none-eabihf",
        flash_origin: 0x0000_0000,
        flash_bytes: 1024 * 1024,
        ram_origin: 0x2000_0000,
        ram_bytes: 256 * 1024,
        probe_chip: "nRF52840_xxAA",
        output: OutputChannel::Rtt,
        clock_hz: 64_000_000,
    },
    Board {
        name: "rpi-pico",
        description: "Raspberry Pi Pico (RP2040 Cortex-M0+, 2 MB flash, 264 KB SRAM)",
        target: "thumbv6m-none-eabi",
        flash_origin: 0x1000_0000,
        flash_bytes: 2 * 1024 * 1024,
        ram_origin: 0x2000_0000,
        ram_bytes: 264 * 1024,
        probe_chip: "RP2040",
        output: OutputChannel::Rtt,
        clock_hz: 125_000_000,
    },
    Board {
        name: "qemu-mps2-an500",
        description: "QEMU mps2-an500 (Cortex-M7), flash and RAM capped to the STM32F746's 1 MB / 320 KB",
        target: "thumbv7em-none-eabihf",
        flash_origin: 0x0000_0000,
        flash_bytes: 1024 * 1024,
        ram_origin: 0x2000_0000,
        ram_bytes: 320 * 1024,
        probe_chip: "",
        output: OutputChannel::Semihosting,
        clock_hz: 25_000_000,
    },
];

/// SRAM kept free of the arena on every board for the stack, the runtime's
/// statics and the output channel's buffers; exported firmware asserts at
/// link time that at least this much is left for the stack.
pub const STACK_RESERVE: u32 = 16 * 1024;

impl Board {
    /// Bytes of SRAM the activation arena may use: SRAM minus [`STACK_RESERVE`].
    pub const fn arena_budget(&self) -> usize {
        (self.ram_bytes - STACK_RESERVE) as usize
    }
}

/// Looks a board up by name.
pub fn board(name: &str) -> Option<&'static Board> {
    BOARDS.iter().find(|b| b.name == name)
}
