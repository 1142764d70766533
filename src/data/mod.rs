//! Data handling: reading IDX files ([`idx`], gzip through flate2's `MultiGzDecoder`), scikit-learn's
//! `train_test_split` ([`split`]), and the user's own data: folders of pictures as Keras's
//! `image_dataset_from_directory` reads them ([`image_folder`], [`image_index`],
//! [`image_decode`]), CSV tables ([`csv_table`]) and NumPy files ([`npy`]).

pub mod csv_table;
pub mod idx;
pub mod image_decode;
pub mod image_folder;
pub mod image_index;
pub mod input_spec;
mod mt19937;
pub mod npy;
pub mod sequences;
pub mod split;

pub use csv_table::{read_csv, CsvTable};
pub use idx::{encode_idx, parse_idx, read_idx, read_idx_sized, Idx, MAX_DEFLATE_RATIO};
pub use image_decode::{load_picture, ColorMode};
pub use image_folder::{
    count_per_class, image_dataset_from_directory, index_image_folder, read_pictures, FolderSubsets, ImageDataset,
    ImageDatasets, ImageFolderOptions, LabelMode,
};
pub use image_index::{index_directory, FileIndex, Labels, Subset, ALLOWLIST_FORMATS};
pub use input_spec::{InputKind, InputSpec};
pub use npy::{encode_npy, encode_npz, read_npy, Array, Npz};
pub use sequences::{pad_sequences, to_categorical, PadOptions, Side};
pub use split::{permutation, permutations, train_test_indices, train_test_split, Rows};
