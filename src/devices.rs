//! Which compute devices exist: the CPU (model, cores, SIMD level) and NVIDIA GPUs through NVML.
//!
//! This is the Keras lesson's "check the GPU" step. NVML (`libnvidia-ml.so.1`) is opened at run
//! time by `nvml-wrapper` through `libloading`, so kiln has no link-time dependency on the NVIDIA
//! driver: on a machine without it, [`report`] says so and training runs on the CPU.

use std::fmt;

use nvml_wrapper::Nvml;
use serde::Serialize;

/// Everything [`report`] found; fields are public so the CLI can print them as JSON.
#[derive(Clone, Debug, Serialize)]
pub struct DeviceReport {
    /// The processor.
    pub cpu: CpuInfo,
    /// NVIDIA GPUs NVML listed; empty when NVML is missing or sees none.
    pub gpus: Vec<GpuInfo>,
    /// Why no GPU is listed ("libnvidia-ml.so.1 not found", "0 devices"); `None` when some are.
    pub nvml_error: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
/// The processor kiln runs on.
pub struct CpuInfo {
    /// `model name` from /proc/cpuinfo, or "unknown CPU".
    pub model: String,
    /// Logical cores available to this process.
    pub logical_cores: usize,
    /// Widest SIMD instruction set detected at run time: "AVX-512F", "AVX2+FMA", "SSE4.1",
    /// "SSE2", "NEON" or "scalar".
    pub simd: &'static str,
}

#[derive(Clone, Debug, Serialize)]
/// One NVIDIA GPU, as NVML describes it.
pub struct GpuInfo {
    /// NVML's device index.
    pub index: u32,
    /// The product name ("NVIDIA H200").
    pub name: String,
    /// Total memory in GiB; `None` when the driver does not answer the query.
    pub memory_gib: Option<f64>,
    /// The driver's version, when it answers.
    pub driver_version: Option<String>,
    /// CUDA version the driver supports, e.g. "12.4".
    pub cuda_driver_version: Option<String>,
}

/// Looks at the CPU and asks NVML for NVIDIA GPUs. Never fails: what cannot be found is reported.
pub fn report() -> DeviceReport {
    let cpu = CpuInfo {
        model: std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| cpu_model(&text))
            .unwrap_or_else(|| "unknown CPU".to_string()),
        logical_cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        simd: simd_level(),
    };
    let (gpus, nvml_error) = match nvidia_gpus() {
        Ok(gpus) if gpus.is_empty() => (gpus, Some("0 devices".to_string())),
        Ok(gpus) => (gpus, None),
        Err(reason) => (Vec::new(), Some(reason)),
    };
    DeviceReport { cpu, gpus, nvml_error }
}

/// The first `model name : ...` line of /proc/cpuinfo text.
fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(key, _)| key.trim() == "model name")
        .map(|(_, value)| value.trim().to_string())
        .filter(|model| !model.is_empty())
}

/// The widest SIMD level this CPU offers, detected at run time.
pub fn simd_level() -> &'static str {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        if is_x86_feature_detected!("avx512f") {
            return "AVX-512F";
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            return "AVX2+FMA";
        }
        if is_x86_feature_detected!("sse4.1") {
            return "SSE4.1";
        }
        if is_x86_feature_detected!("sse2") {
            return "SSE2";
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("neon") {
            return "NEON";
        }
    }
    "scalar"
}

/// All GPUs NVML lists, or why NVML could not be loaded or initialised.
fn nvidia_gpus() -> Result<Vec<GpuInfo>, String> {
    let nvml = Nvml::init().map_err(|e| e.to_string())?;
    let count = nvml.device_count().map_err(|e| format!("device count: {e}"))?;
    let driver_version = nvml.sys_driver_version().ok();
    let cuda_driver_version = nvml.sys_cuda_driver_version().ok().map(|v| {
        let (major, minor) = (nvml_wrapper::cuda_driver_version_major(v), nvml_wrapper::cuda_driver_version_minor(v));
        format!("{major}.{minor}")
    });
    let gpus = (0..count)
        .map(|index| {
            let device = nvml.device_by_index(index);
            let (name, memory_gib) = match &device {
                Ok(d) => (
                    d.name().unwrap_or_else(|e| format!("unnamed GPU ({e})")),
                    d.memory_info().ok().map(|m| m.total as f64 / (1u64 << 30) as f64),
                ),
                Err(e) => (format!("inaccessible GPU ({e})"), None),
            };
            GpuInfo {
                index,
                name,
                memory_gib,
                driver_version: driver_version.clone(),
                cuda_driver_version: cuda_driver_version.clone(),
            }
        })
        .collect();
    Ok(gpus)
}

impl fmt::Display for DeviceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "CPU: {}", self.cpu.model)?;
        writeln!(f, "  logical cores: {}", self.cpu.logical_cores)?;
        writeln!(f, "  SIMD: {}", self.cpu.simd)?;
        if self.gpus.is_empty() {
            let reason = self.nvml_error.as_deref().unwrap_or("0 devices");
            return writeln!(f, "No NVIDIA GPU or driver found (NVML: {reason}); training runs on the CPU.");
        }
        for gpu in &self.gpus {
            write!(f, "GPU {}: {}", gpu.index, gpu.name)?;
            if let Some(gib) = gpu.memory_gib {
                write!(f, ", {gib:.1} GiB")?;
            }
            if let Some(driver) = &gpu.driver_version {
                write!(f, ", driver {driver}")?;
            }
            if let Some(cuda) = &gpu.cuda_driver_version {
                write!(f, ", CUDA {cuda}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simd_level_matches_runtime_detection() {
        #[cfg(target_arch = "x86_64")]
        {
            let expected = if is_x86_feature_detected!("avx512f") {
                "AVX-512F"
            } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                "AVX2+FMA"
            } else if is_x86_feature_detected!("sse4.1") {
                "SSE4.1"
            } else {
                "SSE2"
            };
            assert_eq!(simd_level(), expected);
        }
        #[cfg(target_arch = "aarch64")]
        assert_eq!(simd_level(), "NEON");
    }

    #[test]
    fn cpu_model_reads_the_model_name_line() {
        let text = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9B14\n";
        assert_eq!(cpu_model(text).as_deref(), Some("AMD EPYC 9B14"));
        assert_eq!(cpu_model("processor\t: 0\n"), None);
    }

    #[test]
    fn display_lists_cores_and_gpus_or_says_why_not() {
        let report = report();
        let text = report.to_string();
        println!("{text}");
        assert!(report.cpu.logical_cores >= 1);
        assert!(text.contains(&format!("logical cores: {}", report.cpu.logical_cores)), "{text}");
        assert!(text.contains(report.cpu.simd), "{text}");
        if report.gpus.is_empty() {
            assert!(report.nvml_error.is_some());
            assert!(text.contains("No NVIDIA GPU or driver found (NVML: "), "{text}");
            assert!(text.contains("training runs on the CPU."), "{text}");
        } else {
            assert!(report.nvml_error.is_none());
            for gpu in &report.gpus {
                assert!(text.contains(&format!("GPU {}: {}", gpu.index, gpu.name)), "{text}");
            }
        }
    }

    #[test]
    fn display_of_a_gpu_line() {
        let report = DeviceReport {
            cpu: CpuInfo { model: "test CPU".into(), logical_cores: 2, simd: "SSE2" },
            gpus: vec![GpuInfo {
                index: 0,
                name: "NVIDIA H100".into(),
                memory_gib: Some(79.6),
                driver_version: Some("550.54.15".into()),
                cuda_driver_version: Some("12.4".into()),
            }],
            nvml_error: None,
        };
        let text = report.to_string();
        assert!(text.contains("GPU 0: NVIDIA H100, 79.6 GiB, driver 550.54.15, CUDA 12.4"), "{text}");
        assert!(!text.contains("No NVIDIA GPU"));
        let json = serde_json::to_string(&report).unwrap();
        assert!(json.contains("\"memory_gib\":79.6"), "{json}");
    }
}
