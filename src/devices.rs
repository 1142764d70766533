//! Which compute devices exist: the CPU (model, cores, SIMD level) and NVIDIA GPUs through NVML.
