//! The `kiln` command: the Fashion-MNIST lesson from the command line.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    fixed_mmap_threshold();
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            kiln::console::error(format_args!("error: {e}\n"));
            ExitCode::FAILURE
        }
    }
}

/// Large buffers (a dataset's bytes, a batch of pictures) are mapped from the system and given
/// back when freed. glibc raises its mapping threshold each time such a buffer is freed, so the
/// next buffers of that size came from the heap and stayed resident after they were freed:
/// loading CIFAR-10 batch by batch then peaked at 434 MB instead of 253 MB. A fixed threshold
/// (1 MiB) keeps the peak to what is alive. Training steps allocate nothing, so their speed is
/// unchanged.
fn fixed_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called once, before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
