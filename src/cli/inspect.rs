//! `kiln inspect MODEL`: what a CNN learned — the first layer's kernels and the feature maps of
//! one image after each Conv2D.

use std::path::{Path, PathBuf};

use kiln::datasets::fashion_mnist::CLASS_NAMES;
use kiln::viz::{Colormap, FeatureMaps, MapScale};
use kiln::{Error, Result};

use super::common::{check_output_path, Lesson, Split};
use super::DataArgs;

/// The colour scale of the kernels, as the lesson draws them: `vmin=-0.5, vmax=0.5`.
const FILTER_SCALE: (f32, f32) = (-0.5, 0.5);

/// Options of `kiln inspect`.
#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// A saved CNN model.
    model: PathBuf,
    /// Draw the first Conv2D layer's kernels to this PNG.
    #[arg(long, value_name = "PNG")]
    filters: Option<PathBuf>,
    /// Index of the test image whose feature maps to draw (with --out).
    #[arg(long, value_name = "N")]
    feature_maps: Option<usize>,
    /// Where the feature maps go.
    #[arg(long, value_name = "PNG", default_value = "feature_maps.png")]
    out: PathBuf,
    #[command(flatten)]
    data: DataArgs,
}

pub fn run(args: InspectArgs) -> Result<()> {
    if args.filters.is_none() && args.feature_maps.is_none() {
        return Err(Error::value("nothing to draw: give --filters PNG and/or --feature-maps N"));
    }
    let outputs: Vec<(&str, &Path)> = [("--filters", args.filters.as_deref())]
        .into_iter()
        .chain(args.feature_maps.map(|_| ("--out", Some(args.out.as_path()))))
        .filter_map(|(flag, p)| Some((flag, p?)))
        .collect();
    for (flag, path) in &outputs {
        check_output_path(flag, path)?;
    }
    kiln::io::check_distinct(&[("MODEL", &args.model)], &outputs)?;
    let mut model = kiln::io::load_model(&args.model)?;
    let convs: Vec<usize> =
        model.layers().iter().enumerate().filter(|(_, l)| l.class_name() == "Conv2D").map(|(i, _)| i).collect();
    let Some(&first) = convs.first() else {
        return Err(Error::value(format!("{}: the model has no Conv2D layer to inspect", args.model.display())));
    };
    if let Some(path) = &args.filters {
        let layer = &model.layers()[first];
        let kernel = &layer.params()[0].value; // (kh, kw, in, filters)
        let &[kh, kw, cin, filters] = kernel.shape() else {
            return Err(Error::shape(format!("unexpected Conv2D kernel shape {}", kernel.shape_str())));
        };
        let mut maps = FeatureMaps::new();
        // The kernels seen by the first input channel: (kh, kw, filters) channels-last, all on
        // the lesson's scale, imshow(w, vmin=-0.5, vmax=0.5), diverging about 0.
        let first_channel: Vec<f32> =
            kernel.data().chunks_exact(cin * filters).flat_map(|px| px[..filters].to_vec()).collect();
        let (vmin, vmax) = FILTER_SCALE;
        let scale = MapScale::Shared { colormap: Colormap::RdBuR, vmin, vmax };
        let title = format!("{} kernels ({kh}x{kw}, {filters} filters)", layer.name());
        maps.add(title, &first_channel, (kh, kw, filters), scale)?;
        maps.save_png(path)?;
        kiln::outln!("kernels of '{}' drawn to {}", layer.name(), path.display());
        let beyond = first_channel.iter().filter(|w| !(vmin..=vmax).contains(*w)).count();
        if beyond > 0 {
            kiln::outln!(
                "note: {beyond} of {} weights lie outside the colour scale {vmin} to {vmax} and are drawn at its ends",
                first_channel.len()
            );
        }
    }
    if let Some(i) = args.feature_maps {
        let data = Lesson::load(&args.data, 0.2, &model, false)?;
        let (x, y, _) = data.split(Split::Test);
        if i >= x.rows() {
            return Err(Error::value(format!(
                "--feature-maps {i} is out of range: the test split has {} images",
                x.rows()
            )));
        }
        let image = x.select_rows(&[i]);
        let outputs = model.layer_outputs(&image)?;
        let mut maps = FeatureMaps::new();
        // The input first, as the lesson shows it: imshow(x, cmap='gray_r').
        let &[_, h, w, c] = image.shape() else {
            return Err(Error::shape(format!("expected images (1, H, W, C), found {}", image.shape_str())));
        };
        let name = CLASS_NAMES[y.data()[i] as usize];
        maps.add(format!("test image {i} ({name})"), image.data(), (h, w, c), MapScale::PerMap(Colormap::GrayR))?;
        for &l in &convs {
            let out = &outputs[l]; // (1, H, W, C)
            let &[_, h, w, c] = out.shape() else { continue };
            let title = format!("after {} ({h}x{w}x{c})", model.layers()[l].name());
            maps.add(title, out.data(), (h, w, c), MapScale::PerMap(Colormap::Viridis))?;
        }
        maps.save_png(&args.out)?;
        kiln::outln!("feature maps of test image {i} ({name}) drawn to {}", args.out.display());
    }
    Ok(())
}
