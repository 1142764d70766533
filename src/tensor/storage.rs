//! Where a tensor's values live. Today in host memory only; a device backend adds its variant
//! here (as candle's `Storage` enum does) and implements `tensor::ops` for it, so that layers,
//! losses and optimizers, which compute only through the ops, do not change.

/// A tensor's values.
#[derive(Clone, Debug, PartialEq)]
pub enum Storage {
    /// In host memory, row-major, contiguous: the CPU backend's (`tensor::cpu`).
    Cpu(Vec<f32>),
}

impl Default for Storage {
    fn default() -> Storage {
        Storage::Cpu(Vec::new())
    }
}

impl Storage {
    /// The values, read where they lie.
    pub fn as_slice(&self) -> &[f32] {
        match self {
            Storage::Cpu(v) => v,
        }
    }

    /// The values, to be written where they lie.
    pub fn as_mut_slice(&mut self) -> &mut [f32] {
        match self {
            Storage::Cpu(v) => v,
        }
    }

    /// The host vector, to resize within its capacity.
    pub(crate) fn host_vec(&mut self) -> &mut Vec<f32> {
        match self {
            Storage::Cpu(v) => v,
        }
    }

    /// The values as a host vector.
    pub fn into_vec(self) -> Vec<f32> {
        match self {
            Storage::Cpu(v) => v,
        }
    }
}
