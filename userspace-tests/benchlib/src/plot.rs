//! PNG charts: a scatter plot and a grouped bar chart. Text needs the DejaVu font; when it
//! cannot be loaded the charts are drawn without any text rather than not at all.

use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::*;

/// Debian's fonts-dejavu-core; `BENCH_FONT` overrides it.
pub const FONT_PATH: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
const FONT: &str = "sans-serif";
const SIZE: (u32, u32) = (1200, 700);

/// Registers the font once; false when it is missing or unreadable.
pub fn font_available() -> bool {
    static LOADED: OnceLock<bool> = OnceLock::new();
    *LOADED.get_or_init(|| {
        let path = std::env::var("BENCH_FONT").unwrap_or_else(|_| FONT_PATH.to_string());
        let Ok(bytes) = std::fs::read(&path) else {
            eprintln!("note: font {path} not found, plots are drawn without text");
            return false;
        };
        // Registered fonts must live for the whole program.
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        plotters::style::register_font(FONT, FontStyle::Normal, bytes).is_ok()
    })
}

fn err(e: impl std::fmt::Display) -> String {
    format!("plot: {e}")
}

/// Axis titles of a chart.
pub struct Labels<'a> {
    pub title: &'a str,
    pub x: &'a str,
    pub y: &'a str,
}

/// Scatter plot of `points` (x, y) to a PNG at `path`.
pub fn scatter_png(path: &Path, labels: &Labels, points: &[(f64, f64)]) -> Result<(), String> {
    let text = font_available();
    let x_max = points.iter().map(|p| p.0).fold(1.0, f64::max) * 1.02;
    let y_max = points.iter().map(|p| p.1).fold(1.0, f64::max) * 1.1;
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut builder = ChartBuilder::on(&root);
    builder.margin(20);
    if text {
        builder
            .caption(labels.title, (FONT, 24))
            .x_label_area_size(45)
            .y_label_area_size(80);
    }
    let mut chart = builder
        .build_cartesian_2d(0f64..x_max, 0f64..y_max)
        .map_err(err)?;
    let mut mesh = chart.configure_mesh();
    if text {
        mesh.x_desc(labels.x)
            .y_desc(labels.y)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0}"));
    } else {
        mesh.x_labels(0).y_labels(0);
    }
    mesh.draw().map_err(err)?;
    let style = BLUE.mix(0.6).filled();
    chart
        .draw_series(points.iter().map(|&p| Circle::new(p, 2, style)))
        .map_err(err)?;
    root.present().map_err(err)
}

/// Grouped bar chart: one group per name in `groups`, one coloured bar per series;
/// `values[series][group]`, a `None` leaves a gap.
pub fn grouped_bars_png(
    path: &Path,
    labels: &Labels,
    groups: &[String],
    series: &[String],
    values: &[Vec<Option<f64>>],
) -> Result<(), String> {
    let text = font_available();
    let y_max = values
        .iter()
        .flatten()
        .flatten()
        .copied()
        .fold(1.0, f64::max)
        * 1.15;
    let x_range = -0.5f64..(groups.len().max(1) as f64 - 0.5);
    // Wide enough for every group, with the group names written vertically under them.
    let size = (SIZE.0.max(70 * groups.len() as u32 + 200), SIZE.1 + 120);
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut builder = ChartBuilder::on(&root);
    builder.margin(20);
    if text {
        builder
            .caption(labels.title, (FONT, 24))
            .x_label_area_size(190)
            .y_label_area_size(90);
    }
    let mut chart = builder
        .build_cartesian_2d(x_range, 0f64..y_max)
        .map_err(err)?;
    let group_name = |x: &f64| {
        let index = x.round();
        let name = (index >= 0.0 && (x - index).abs() < 0.01)
            .then(|| groups.get(index as usize))
            .flatten();
        // Rotated labels are centred on their tick: leading spaces (narrower than letters,
        // hence twice as many) move the visible name below the axis.
        name.map(|n| format!("{}{n}", " ".repeat(2 * n.len())))
            .unwrap_or_default()
    };
    let mut mesh = chart.configure_mesh();
    mesh.disable_x_mesh();
    if text {
        mesh.x_labels(groups.len().max(1))
            .x_label_formatter(&group_name)
            .x_label_style((FONT, 14).into_font().transform(FontTransform::Rotate90))
            .y_label_formatter(&|v| format!("{v:.1}"))
            .y_desc(labels.y)
            .x_desc(labels.x);
    } else {
        mesh.x_labels(0).y_labels(0);
    }
    mesh.draw().map_err(err)?;
    let width = 0.8 / series.len().max(1) as f64;
    for (index, name) in series.iter().enumerate() {
        let color = Palette99::pick(index).to_rgba();
        let bars = values.get(index).into_iter().flatten().enumerate();
        let rects = bars.filter_map(|(group, value)| {
            let left = group as f64 - 0.4 + index as f64 * width;
            value.map(|v| Rectangle::new([(left, 0.0), (left + width * 0.95, v)], color.filled()))
        });
        let drawn = chart.draw_series(rects).map_err(err)?;
        if text {
            drawn.label(name.as_str()).legend(move |(x, y)| {
                Rectangle::new([(x, y - 6), (x + 12, y + 6)], color.filled())
            });
        }
    }
    if text {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(err)?;
    }
    root.present().map_err(err)
}
