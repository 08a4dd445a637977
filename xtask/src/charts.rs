//! SVG charts of a compare run, drawn with plotters: bytes per CST against the 5 MB target, the scaling
//! curve, and operation times relative to tree-sitter.

use cst_measure::report::{CompareReport, MB_BYTES};
use plotters::prelude::*;

const SIZE: (u32, u32) = (900, 480);

/// Every chart as (file name, SVG text). Charts with nothing to show are left out.
pub fn render_all(report: &CompareReport) -> anyhow::Result<Vec<(&'static str, String)>> {
    let mut charts = vec![("bytes-per-cst.svg", bytes_per_cst(report)?)];
    if report.backends.iter().any(|b| b.scaling.len() > 1) {
        charts.push(("scaling.svg", scaling(report)?));
    }
    if !report.operations.is_empty() {
        charts.push(("operations.svg", operations(report)?));
    }
    Ok(charts)
}

fn color(index: usize) -> RGBColor {
    const PALETTE: [RGBColor; 6] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
    ];
    PALETTE[index % PALETTE.len()]
}

/// Bars of retained bytes per CST per backend (log scale), with the per-CST budget the 5 MB target leaves.
fn bytes_per_cst(report: &CompareReport) -> anyhow::Result<String> {
    let mut bars: Vec<(String, f64)> = report
        .backends
        .iter()
        .map(|b| (b.name.clone(), b.bytes_per_cst))
        .collect();
    bars.push(("published".into(), report.reference.bytes_per_cst));
    let budget = report.target_bytes as f64 / report.corpus.files.max(1) as f64;
    let top = bars.iter().map(|b| b.1).fold(budget, f64::max) * 2.0;
    let bottom = bars.iter().map(|b| b.1).fold(budget, f64::min).max(1.0) / 2.0;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "Retained bytes per CST ({} files); dashed: the 5 MB target's {:.0} B per CST",
                    report.corpus.files, budget
                ),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d((0..bars.len()).into_segmented(), (bottom..top).log_scale())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(bars.len())
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => bars.get(*i).map_or(String::new(), |b| b.0.clone()),
                _ => String::new(),
            })
            .y_label_formatter(&|v| format!("{v:.0}"))
            .y_desc("bytes per CST (log scale)")
            .draw()?;
        chart.draw_series(bars.iter().enumerate().map(|(i, (_, value))| {
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i), bottom),
                    (SegmentValue::Exact(i + 1), *value),
                ],
                color(i).filled(),
            );
            bar.set_margin(0, 0, 12, 12);
            bar
        }))?;
        chart.draw_series(DashedLineSeries::new(
            vec![
                (SegmentValue::Exact(0), budget),
                (SegmentValue::Last, budget),
            ],
            6,
            4,
            BLACK.stroke_width(2),
        ))?;
        root.present()?;
    }
    Ok(svg)
}

/// Retained MB against files held, one line per backend, with the 5 MB target.
fn scaling(report: &CompareReport) -> anyhow::Result<String> {
    let target_mb = report.target_bytes as f64 / MB_BYTES as f64;
    let max_files = report
        .backends
        .iter()
        .flat_map(|b| &b.scaling)
        .map(|s| s.files)
        .max()
        .unwrap_or(1);
    let max_mb = report
        .backends
        .iter()
        .flat_map(|b| &b.scaling)
        .map(|s| s.retained_bytes as f64 / MB_BYTES as f64)
        .fold(0.0, f64::max)
        .max(target_mb)
        * 1.1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Retained memory as the corpus grows", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0u64..max_files, 0.0..max_mb.max(0.001))?;
        chart
            .draw_series(DashedLineSeries::new(
                vec![(0, target_mb), (max_files, target_mb)],
                6,
                4,
                BLACK.stroke_width(2),
            ))?
            .label("5 MB target")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK.stroke_width(2)));
        chart
            .configure_mesh()
            .x_desc("files held")
            .y_desc("retained MB")
            .draw()?;
        for (i, backend) in report.backends.iter().enumerate() {
            let points: Vec<(u64, f64)> = backend
                .scaling
                .iter()
                .map(|s| (s.files, s.retained_bytes as f64 / MB_BYTES as f64))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color(i).stroke_width(2)))?
                .label(backend.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color(i).stroke_width(2))
                });
            chart.draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 3, color(i).filled())),
            )?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
        root.present()?;
    }
    Ok(svg)
}

/// Each backend's time over tree-sitter's, per operation (log scale; below 1 is faster).
fn operations(report: &CompareReport) -> anyhow::Result<String> {
    let mut backends: Vec<&str> = Vec::new();
    let mut operations = Vec::new();
    for row in &report.operations {
        if !backends.contains(&row.backend.as_str()) {
            backends.push(&row.backend);
        }
        if !operations.contains(&row.operation) {
            operations.push(row.operation);
        }
    }
    let ratios: Vec<f64> = report
        .operations
        .iter()
        .filter_map(|o| o.ratio_to_tree_sitter)
        .collect();
    // Headroom above the tallest bar (log scale) for the legend.
    let top = ratios.iter().copied().fold(1.0, f64::max) * 8.0;
    let bottom = ratios.iter().copied().fold(1.0, f64::min).max(1e-4) / 2.0;
    let group = backends.len() + 1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Operation time relative to tree-sitter (below 1 is faster)",
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0..operations.len() * group, (bottom..top).log_scale())?;
        let names: Vec<&str> = operations.iter().map(|o| o.name()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(operations.len() * group)
            .x_label_formatter(&|i| {
                if i % group == backends.len() / 2 {
                    names
                        .get(i / group)
                        .map_or(String::new(), |s| s.to_string())
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| format!("{v:.2}x"))
            .y_desc("time / tree-sitter's (log scale)")
            .draw()?;
        for (b, backend) in backends.iter().enumerate() {
            let bars: Vec<_> = report
                .operations
                .iter()
                .filter(|o| o.backend == *backend)
                .filter_map(|o| {
                    let slot = operations.iter().position(|p| *p == o.operation)? * group + b;
                    Some(Rectangle::new(
                        [(slot, bottom), (slot + 1, o.ratio_to_tree_sitter?)],
                        color(b).filled(),
                    ))
                })
                .collect();
            chart
                .draw_series(bars)?
                .label(backend.to_string())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color(b).filled())
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()?;
        root.present()?;
    }
    Ok(svg)
}
