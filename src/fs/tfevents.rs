//! TensorBoard event files, as TensorFlow's summary writer makes them:
//! `events.out.tfevents.<seconds>.<host>.<pid>.<n>.v2`, a sequence of records
//! `len: u64 LE, masked_crc32c(len): u32 LE, data, masked_crc32c(data): u32 LE`, each `data` an
//! `Event` protobuf. The first event carries `file_version: "brain.Event:2"`; each scalar is a
//! `Summary.Value` with a float32 scalar `TensorProto` and the `scalars` plugin's metadata
//! (what `tf.summary.scalar` writes). Every record is flushed as soon as it is written, so a run
//! that dies leaves a readable file.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use prost::Message;

use crate::error::{Error, Result};

/// tensorflow/core/util/event.proto's `Event` (the fields kiln writes).
#[allow(missing_docs)] // fields are the .proto's, by name and tag
#[derive(Clone, PartialEq, prost::Message)]
pub struct Event {
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    #[prost(int64, tag = "2")]
    pub step: i64,
    #[prost(string, optional, tag = "3")]
    pub file_version: Option<String>,
    #[prost(message, optional, tag = "5")]
    pub summary: Option<Summary>,
}

/// tensorflow/core/framework/summary.proto's `Summary`.
#[allow(missing_docs)] // fields are the .proto's, by name and tag
#[derive(Clone, PartialEq, prost::Message)]
pub struct Summary {
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<SummaryValue>,
}

/// `Summary.Value`: a tag, its metadata, and the value as a tensor.
#[allow(missing_docs)] // fields are the .proto's, by name and tag
#[derive(Clone, PartialEq, prost::Message)]
pub struct SummaryValue {
    #[prost(string, tag = "1")]
    pub tag: String,
    #[prost(message, optional, tag = "8")]
    pub tensor: Option<TensorProto>,
    #[prost(message, optional, tag = "9")]
    pub metadata: Option<SummaryMetadata>,
}

/// `SummaryMetadata`: which TensorBoard plugin shows the value.
#[allow(missing_docs)] // fields are the .proto's, by name and tag
#[derive(Clone, PartialEq, prost::Message)]
pub struct SummaryMetadata {
    #[prost(message, optional, tag = "1")]
    pub plugin_data: Option<PluginData>,
    #[prost(string, tag = "2")]
    pub display_name: String,
    #[prost(string, tag = "3")]
    pub summary_description: String,
    /// `DataClass`: 1 is `DATA_CLASS_SCALAR`.
    #[prost(int32, tag = "4")]
    pub data_class: i32,
}

/// `SummaryMetadata.PluginData`.
#[allow(missing_docs)] // fields are the .proto's, by name and tag
#[derive(Clone, PartialEq, prost::Message)]
pub struct PluginData {
    #[prost(string, tag = "1")]
    pub plugin_name: String,
    #[prost(bytes = "vec", tag = "2")]
    pub content: Vec<u8>,
}

/// tensorflow/core/framework/tensor.proto's `TensorProto` (a float32 tensor's fields).
#[allow(missing_docs)] // fields are the .proto's, by name and tag
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorProto {
    /// `DataType`: 1 is `DT_FLOAT`.
    #[prost(int32, tag = "1")]
    pub dtype: i32,
    #[prost(message, optional, tag = "2")]
    pub tensor_shape: Option<TensorShapeProto>,
    #[prost(bytes = "vec", tag = "4")]
    pub tensor_content: Vec<u8>,
}

/// `TensorShapeProto`: no dimensions for a scalar.
#[allow(missing_docs)] // fields are the .proto's, by name and tag
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorShapeProto {
    #[prost(message, repeated, tag = "2")]
    pub dim: Vec<TensorShapeDim>,
}

/// `TensorShapeProto.Dim`.
#[allow(missing_docs)] // fields are the .proto's, by name and tag
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorShapeDim {
    #[prost(int64, tag = "1")]
    pub size: i64,
}

const DT_FLOAT: i32 = 1;
const DATA_CLASS_SCALAR: i32 = 1;

/// TFRecord's checksum: CRC-32C, rotated right by 15 bits plus a constant.
pub fn masked_crc32c(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// One TFRecord: length, its masked CRC, the data, its masked CRC.
pub fn record(data: &[u8]) -> Vec<u8> {
    let len = (data.len() as u64).to_le_bytes();
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc32c(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc32c(data).to_le_bytes());
    out
}

/// Reads the records of an event file back, checking both CRCs of each; errors name the file
/// and the record's offset.
pub fn read_events(path: &Path) -> Result<Vec<Event>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let mut events = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let bad = |what: &str| Error::format(path, format!("event record at byte {at}: {what}"));
        let head = bytes.get(at..at + 12).ok_or_else(|| bad("truncated length"))?;
        let len_bytes: [u8; 8] = head[..8].try_into().expect("8 bytes");
        if masked_crc32c(&len_bytes).to_le_bytes() != head[8..12] {
            return Err(bad("the length's CRC does not match"));
        }
        let len = usize::try_from(u64::from_le_bytes(len_bytes)).map_err(|_| bad("length too large"))?;
        let end = at.checked_add(12 + len + 4).filter(|&e| e <= bytes.len()).ok_or_else(|| bad("truncated data"))?;
        let data = &bytes[at + 12..end - 4];
        if masked_crc32c(data).to_le_bytes() != bytes[end - 4..end] {
            return Err(bad("the data's CRC does not match"));
        }
        events.push(Event::decode(data).map_err(|e| bad(&format!("not an Event protobuf: {e}")))?);
        at = end;
    }
    Ok(events)
}

/// Appends events to one new event file in a directory (created if missing).
pub struct EventWriter {
    path: PathBuf,
    file: File,
}

/// Distinguishes files a process opens in the same second (TensorFlow's global counter).
static FILE_COUNTER: AtomicU64 = AtomicU64::new(0);

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

impl EventWriter {
    /// Creates `dir` and a new event file in it, and writes the file-version event.
    pub fn create(dir: &Path) -> Result<EventWriter> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let wall_time = now();
        let n = FILE_COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("events.out.tfevents.{}.{}.{}.{n}.v2", wall_time as u64, hostname(), std::process::id());
        let path = dir.join(name);
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        let mut writer = EventWriter { path, file };
        writer.write(&Event { wall_time, file_version: Some("brain.Event:2".into()), ..Default::default() })?;
        Ok(writer)
    }

    /// The event file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one event as a record and flushes it.
    pub fn write(&mut self, event: &Event) -> Result<()> {
        let bytes = record(&event.encode_to_vec());
        self.file.write_all(&bytes).and_then(|_| self.file.flush()).map_err(|e| Error::io(&self.path, e))
    }

    /// Writes `tag` = `value` at `step` as `tf.summary.scalar` does (float32).
    pub fn scalar(&mut self, tag: &str, value: f64, step: i64) -> Result<()> {
        let value = SummaryValue {
            tag: tag.to_string(),
            tensor: Some(TensorProto {
                dtype: DT_FLOAT,
                tensor_shape: Some(TensorShapeProto::default()),
                tensor_content: (value as f32).to_le_bytes().to_vec(),
            }),
            metadata: Some(SummaryMetadata {
                plugin_data: Some(PluginData { plugin_name: "scalars".into(), content: Vec::new() }),
                data_class: DATA_CLASS_SCALAR,
                ..Default::default()
            }),
        };
        self.write(&Event {
            wall_time: now(),
            step,
            summary: Some(Summary { value: vec![value] }),
            ..Default::default()
        })
    }
}

/// The scalar a summary value holds (float32 tensor content), if it is one.
pub fn scalar_value(value: &SummaryValue) -> Option<f32> {
    let t = value.tensor.as_ref().filter(|t| t.dtype == DT_FLOAT)?;
    Some(f32::from_le_bytes(t.tensor_content.as_slice().try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_crc_matches_tensorflow() {
        // CRC-32C of "123456789" is 0xE3069283 (RFC 3720's check value); masked as TFRecord does.
        assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(masked_crc32c(b"123456789"), 0xe306_9283u32.rotate_right(15).wrapping_add(0xa282_ead8));
        // Every TensorFlow event file starts with the same 12 bytes: the first record's length (24:
        // wall_time and file_version) and its masked CRC.
        let head = &record(&[0; 24])[..12];
        assert_eq!(head, b"\x18\0\0\0\0\0\0\0\xa3\x7fK\"");
    }

    #[test]
    fn scalars_round_trip_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = EventWriter::create(&dir.path().join("train")).unwrap();
        w.scalar("epoch_loss", 0.5, 0).unwrap();
        w.scalar("epoch_loss", 0.25, 1).unwrap();
        let name = w.path().file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("events.out.tfevents.") && name.ends_with(".v2"), "{name}");
        let events = read_events(w.path()).unwrap();
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].file_version.as_deref(), Some("brain.Event:2"));
        let v = &events[2].summary.as_ref().unwrap().value[0];
        assert_eq!((v.tag.as_str(), events[2].step, scalar_value(v)), ("epoch_loss", 1, Some(0.25)));
        assert_eq!(v.metadata.as_ref().unwrap().plugin_data.as_ref().unwrap().plugin_name, "scalars");
    }

    #[test]
    fn corrupt_and_truncated_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = EventWriter::create(dir.path()).unwrap();
        w.scalar("epoch_loss", 0.5, 0).unwrap();
        let mut bytes = std::fs::read(w.path()).unwrap();
        let path = dir.path().join("bad");
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let err = read_events(&path).unwrap_err().to_string();
        assert!(err.ends_with("truncated data"), "{err}");
        let last = bytes.len() - 6;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let err = read_events(&path).unwrap_err().to_string();
        assert!(err.ends_with("the data's CRC does not match"), "{err}");
    }
}
