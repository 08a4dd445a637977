//! SVG charts of a compare run, drawn with plotters: what each CST costs against the 5 MB target, the scaling
//! curve, and operation times relative to tree-sitter. Rows differ by orders of magnitude, so every value axis
//! is logarithmic, and every bar carries its figure.

use cst_measure::report::{per_item, CompareReport, BASELINE_BACKEND, MB_BYTES};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const SIZE: (u32, u32) = (960, 500);

/// The charts as the README shows them.
pub const README_CHARTS: &str = "More charts: [bytes per CST](results/bytes-per-cst.svg), \
     [scaling](results/scaling.svg), [operations relative to tree-sitter](results/operations.svg).\n";

/// Every chart as (file name, SVG text). Charts with nothing to show are left out.
pub fn render_all(report: &CompareReport) -> anyhow::Result<Vec<(&'static str, String)>> {
    let mut charts = vec![("bytes-per-cst.svg", bytes_per_cst(report)?)];
    if report.backends.iter().any(|b| b.scaling.len() > 1) {
        charts.push(("scaling.svg", scaling(report)?));
    }
    if operation_groups(report).next().is_some() {
        charts.push(("operations.svg", operations(report)?));
    }
    if !report.edits.is_empty() {
        charts.push(("edits.svg", edits(report)?));
    }
    Ok(charts)
}

/// A colour per backend, by its place in the report (the same in every chart).
fn color(report: &CompareReport, backend: &str) -> RGBColor {
    const PALETTE: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    let index = report
        .backends
        .iter()
        .position(|b| b.name == backend)
        .unwrap_or(report.backends.len());
    PALETTE[index % PALETTE.len()]
}

/// A log-scale range around `values` with room above for labels.
fn log_range(values: impl Iterator<Item = f64>, headroom: f64) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| *v > 0.0)
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return (0.1, 10.0);
    }
    (lo / 2.0, hi * headroom)
}

/// Footprint per CST per backend, the published figure beside them, and the per-CST budget of the target.
fn bytes_per_cst(report: &CompareReport) -> anyhow::Result<String> {
    let mut bars: Vec<(String, f64, RGBColor)> = report
        .backends
        .iter()
        .map(|b| (b.name.clone(), b.bytes_per_cst, color(report, &b.name)))
        .collect();
    bars.push((
        "published".into(),
        report.reference.bytes_per_cst,
        RGBColor(90, 90, 90),
    ));
    let budget = report.target_bytes as f64 / report.corpus.files.max(1) as f64;
    let (bottom, top) = log_range(bars.iter().map(|b| b.1).chain([budget]), 4.0);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "Bytes paid per CST ({} files); dashed: the 5 MB target's {:.0} B per CST",
                    report.corpus.files, budget
                ),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(
                (0..bars.len() - 1).into_segmented(),
                (bottom..top).log_scale(),
            )?;
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
        chart.draw_series(bars.iter().enumerate().map(|(i, (_, value, c))| {
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i), bottom),
                    (SegmentValue::Exact(i + 1), *value),
                ],
                c.filled(),
            );
            bar.set_margin(0, 0, 10, 10);
            bar
        }))?;
        chart.draw_series(bars.iter().enumerate().map(|(i, (_, value, _))| {
            Text::new(
                format!("{} B", thousands_f(*value)),
                (SegmentValue::CenterOf(i), *value * 1.15),
                TextStyle::from(("sans-serif", 13).into_font())
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            )
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

fn thousands_f(value: f64) -> String {
    cst_measure::report::thousands(value.round() as u64)
}

/// Footprint against files held, one line per backend (log scale), with the 5 MB target.
fn scaling(report: &CompareReport) -> anyhow::Result<String> {
    let target_mb = report.target_bytes as f64 / MB_BYTES as f64;
    let max_files = report
        .backends
        .iter()
        .flat_map(|b| &b.scaling)
        .map(|s| s.files)
        .max()
        .unwrap_or(1);
    let (bottom, top) = log_range(
        report
            .backends
            .iter()
            .flat_map(|b| &b.scaling)
            .map(|s| s.retained_footprint as f64 / MB_BYTES as f64)
            .chain([target_mb]),
        3.0,
    );
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Memory paid as the corpus grows (log scale)",
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0u64..max_files + max_files / 8, (bottom..top).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("files held")
            .y_desc("MB paid (log scale)")
            .y_label_formatter(&|v| format!("{v:.2}"))
            .draw()?;
        chart
            .draw_series(DashedLineSeries::new(
                vec![(0, target_mb), (max_files, target_mb)],
                6,
                4,
                BLACK.stroke_width(2),
            ))?
            .label("5 MB target")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK.stroke_width(2)));
        for backend in &report.backends {
            let c = color(report, &backend.name);
            let points: Vec<(u64, f64)> = backend
                .scaling
                .iter()
                .map(|s| (s.files, s.retained_footprint as f64 / MB_BYTES as f64))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), c.stroke_width(2)))?
                .label(backend.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2))
                });
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, c.filled())))?;
            if let Some(&(files, value)) = points.last() {
                chart.draw_series([Text::new(
                    format!("{value:.2} MB"),
                    (files, value),
                    TextStyle::from(("sans-serif", 12).into_font())
                        .pos(Pos::new(HPos::Left, VPos::Center)),
                )])?;
            }
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

/// The operations worth a group: those timed on tree-sitter and at least one other backend, each with the
/// other backends' rows (tree-sitter itself is the line at 1).
fn operation_groups(
    report: &CompareReport,
) -> impl Iterator<Item = (&'static str, Vec<&cst_measure::report::OperationRow>)> {
    cst_measure::ops::OPERATIONS.into_iter().filter_map(|op| {
        let rows: Vec<_> = report
            .operations
            .iter()
            .filter(|o| o.operation == op && o.backend != BASELINE_BACKEND)
            .filter(|o| o.ratio_to_tree_sitter.is_some_and(|x| x > 0.0))
            .collect();
        (!rows.is_empty()).then_some((op.name(), rows))
    })
}

/// Each backend's time over tree-sitter's, per operation (log scale; below 1 is faster), labelled with the
/// time per item.
fn operations(report: &CompareReport) -> anyhow::Result<String> {
    let groups: Vec<_> = operation_groups(report).collect();
    // Slots: each group's bars side by side, one empty slot between groups.
    let mut slots = Vec::new();
    let mut centres = Vec::new();
    for (g, (_, rows)) in groups.iter().enumerate() {
        let first = slots.len() + g;
        centres.push(first as f64 + rows.len() as f64 / 2.0);
        for (i, row) in rows.iter().enumerate() {
            slots.push((first + i, *row));
        }
    }
    let width = slots.last().map_or(1, |(slot, _)| slot + 1);
    let ratios = slots
        .iter()
        .filter_map(|(_, o)| o.ratio_to_tree_sitter)
        .chain([1.0]);
    let (bottom, top) = log_range(ratios, 12.0);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Operation time relative to tree-sitter (log scale; below the line at 1 is faster)",
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..width as f64, (bottom..top).log_scale())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .disable_x_axis()
            .y_label_formatter(&|v| format!("{v:.2}x"))
            .y_desc("time / tree-sitter's")
            .draw()?;
        // Group names go under the axis, in the label area (drawn on the whole area, in pixels).
        for ((name, _), &x) in groups.iter().zip(&centres) {
            let (px, py) = chart.backend_coord(&(x, bottom));
            root.draw(&Text::new(
                name.to_string(),
                (px, py + 8),
                TextStyle::from(("sans-serif", 13).into_font())
                    .pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }
        chart.draw_series(DashedLineSeries::new(
            vec![(0.0, 1.0), (width as f64, 1.0)],
            6,
            4,
            BLACK.stroke_width(1),
        ))?;
        let mut legend_done: Vec<&str> = Vec::new();
        for &(slot, row) in &slots {
            let c = color(report, &row.backend);
            let value = row.ratio_to_tree_sitter.unwrap_or(1.0);
            let mut bar = Rectangle::new(
                [(slot as f64, bottom), (slot as f64 + 1.0, value)],
                c.filled(),
            );
            bar.set_margin(0, 0, 2, 2);
            let series = chart.draw_series([bar])?;
            if !legend_done.contains(&row.backend.as_str()) {
                legend_done.push(&row.backend);
                series.label(row.backend.clone()).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled())
                });
            }
            chart.draw_series([Text::new(
                per_item(row.ns_per_item),
                (slot as f64 + 0.5, value * 1.1),
                TextStyle::from(
                    ("sans-serif", 10)
                        .into_font()
                        .transform(FontTransform::Rotate270),
                )
                .pos(Pos::new(HPos::Left, VPos::Center)),
            )])?;
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

/// Two panels: each backend's median update (log scale) beside the common incremental reparse, and what an
/// extra version of a file costs as a share of one whole version.
fn edits(report: &CompareReport) -> anyhow::Result<String> {
    let rows = &report.edits;
    let reparse = rows
        .iter()
        .find(|e| e.backend == BASELINE_BACKEND)
        .or(rows.first())
        .map_or(0.0, |e| e.reparse_median_seconds * 1e9);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (SIZE.0, SIZE.1 + 200)).into_drawing_area();
        root.fill(&WHITE)?;
        let (left, right) = root.split_vertically((SIZE.1 + 200) / 2);
        let names: Vec<&str> = rows.iter().map(|e| e.backend.as_str()).collect();
        let label = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) => names.get(*i).map_or(String::new(), |n| n.to_string()),
            _ => String::new(),
        };

        let times: Vec<f64> = rows.iter().map(|e| e.update_median_seconds * 1e9).collect();
        let (bottom, top) = log_range(times.iter().copied().chain([reparse]), 6.0);
        let mut chart = ChartBuilder::on(&left)
            .caption(
                format!(
                    "Update per edit (median); dashed: reparse, {}",
                    per_item(reparse)
                ),
                ("sans-serif", 15),
            )
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(70)
            .build_cartesian_2d(
                (0..rows.len().max(1) - 1).into_segmented(),
                (bottom..top).log_scale(),
            )?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(rows.len())
            .x_label_formatter(&label)
            .y_label_formatter(&|v| per_item(*v))
            .y_desc("time (log scale)")
            .draw()?;
        chart.draw_series(times.iter().enumerate().map(|(i, &t)| {
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i), bottom),
                    (SegmentValue::Exact(i + 1), t),
                ],
                color(report, &rows[i].backend).filled(),
            );
            bar.set_margin(0, 0, 6, 6);
            bar
        }))?;
        chart.draw_series(times.iter().enumerate().map(|(i, &t)| {
            Text::new(
                per_item(t),
                (SegmentValue::CenterOf(i), t * 1.15),
                TextStyle::from(("sans-serif", 11).into_font())
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            )
        }))?;
        chart.draw_series(DashedLineSeries::new(
            vec![
                (SegmentValue::Exact(0), reparse),
                (SegmentValue::Last, reparse),
            ],
            6,
            4,
            BLACK.stroke_width(2),
        ))?;

        let shares: Vec<f64> = rows.iter().map(|e| e.extra_version_over_file).collect();
        let top = shares.iter().copied().fold(1.0, f64::max) * 1.2;
        let mut chart = ChartBuilder::on(&right)
            .caption(
                format!(
                    "An extra version as a share of one version ({} kept)",
                    rows.first().map_or(0, |e| e.versions_kept)
                ),
                ("sans-serif", 15),
            )
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(70)
            .build_cartesian_2d((0..rows.len().max(1) - 1).into_segmented(), 0.0..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(rows.len())
            .x_label_formatter(&label)
            .y_label_formatter(&|v| format!("{v:.1}"))
            .y_desc("extra version / one version")
            .draw()?;
        chart.draw_series(shares.iter().enumerate().map(|(i, &x)| {
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), x),
                ],
                color(report, &rows[i].backend).filled(),
            );
            bar.set_margin(0, 0, 6, 6);
            bar
        }))?;
        chart.draw_series(rows.iter().zip(&shares).enumerate().map(|(i, (e, &x))| {
            Text::new(
                format!("{} B", thousands_f(e.bytes_per_extra_version)),
                (SegmentValue::CenterOf(i), x + top * 0.01),
                TextStyle::from(("sans-serif", 11).into_font())
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            )
        }))?;
        root.present()?;
    }
    Ok(svg)
}
