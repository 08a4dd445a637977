//! SVG charts of a compare run, drawn with plotters: what each CST costs against the 5 MB target, the scaling
//! curve, operation times relative to tree-sitter, editing, and the two size–speed charts `compare.md` shows
//! under its verdict. Rows differ by orders of magnitude, so every value axis is logarithmic, and every bar or
//! point carries its figure.
//!
//! A size–speed chart puts each verified backend at its bytes paid per node (footprint plus static tables, over
//! the corpus's nodes) and a time per item: the full walk per node (`size-speed.svg`, timed beside tree-sitter
//! where it was) or node at offset per lookup (`size-lookup.svg`). The text-only rows hold no tree, so they are
//! vertical lines at their bytes per node, as is the target's budget per node once the parsers are paid for; a
//! line joins the [`frontier`], the rows no other row beats on both axes. Labels are placed greedily around
//! their points (a few dozen candidate spots each, checked against the labels already drawn): linear in the
//! rows times the labels, for about ten rows.

use cst_measure::ops::Operation;
use cst_measure::report::{
    mb, per_item, BackendRow, CompareReport, BASELINE_BACKEND, MB_BYTES, SIZE_SPEED_CHARTS,
};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const SIZE: (u32, u32) = (960, 500);

/// The charts as the README shows them.
pub const README_CHARTS: &str = "More charts: [bytes per CST](results/bytes-per-cst.svg), \
     [scaling](results/scaling.svg), [operations relative to tree-sitter](results/operations.svg).\n";

/// Every chart as (file name, SVG text). Charts with nothing to show are left out.
pub fn render_all(report: &CompareReport) -> anyhow::Result<Vec<(&'static str, String)>> {
    let mut charts = vec![("bytes-per-cst.svg", bytes_per_cst(report)?)];
    if !report.backends.is_empty() {
        charts.push((SIZE_SPEED_CHARTS[0].0, size_speed(report)?));
        charts.push((SIZE_SPEED_CHARTS[1].0, size_lookup(report)?));
    }
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

/// What a size–speed chart plots for one verified backend: bytes paid per node (its footprint and its static
/// tables over the corpus's nodes) and a time per item in nanoseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct SizeSpeedPoint {
    pub backend: String,
    pub bytes_per_node: f64,
    pub ns: f64,
}

/// The points that no other point dominates (another as small or smaller and as fast or faster, and strictly
/// better in one), as indices into `points`, from the smallest to the largest. Quadratic in the points: a
/// chart has about ten.
pub fn frontier(points: &[SizeSpeedPoint]) -> Vec<usize> {
    let dominates = |a: &SizeSpeedPoint, b: &SizeSpeedPoint| {
        a.bytes_per_node <= b.bytes_per_node
            && a.ns <= b.ns
            && (a.bytes_per_node < b.bytes_per_node || a.ns < b.ns)
    };
    let mut kept: Vec<usize> = (0..points.len())
        .filter(|&i| !points.iter().any(|p| dominates(p, &points[i])))
        .collect();
    kept.sort_by(|&a, &b| {
        points[a]
            .bytes_per_node
            .total_cmp(&points[b].bytes_per_node)
            .then(points[a].ns.total_cmp(&points[b].ns))
    });
    kept
}

/// Bytes paid per node by each verified backend, with the time `ns` gives it (rows without one are left out).
fn size_speed_points(
    report: &CompareReport,
    ns: impl Fn(&BackendRow) -> Option<f64>,
) -> Vec<SizeSpeedPoint> {
    report
        .backends
        .iter()
        .filter(|b| b.verified && b.nodes > 0)
        .filter_map(|b| {
            let ns = ns(b).filter(|t| *t > 0.0)?;
            Some(SizeSpeedPoint {
                backend: b.name.clone(),
                bytes_per_node: (b.retained_footprint + b.static_bytes) as f64 / b.nodes as f64,
                ns,
            })
        })
        .collect()
}

/// The full walk's time per node: timed beside tree-sitter in the backend's own process where it was (whole-
/// corpus mode), the walk operation's median otherwise.
fn walk_ns(report: &CompareReport, b: &BackendRow) -> Option<f64> {
    match &b.walk_beside_tree_sitter {
        Some(beside) if beside.nodes > 0 => {
            Some(beside.backend_seconds * 1e9 / beside.nodes as f64)
        }
        _ => operation_ns(report, b, Operation::Walk),
    }
}

fn operation_ns(report: &CompareReport, b: &BackendRow, op: Operation) -> Option<f64> {
    report
        .operations
        .iter()
        .find(|o| o.operation == op && o.backend == b.name)
        .map(|o| o.ns_per_item)
}

/// Bytes paid per node against full-walk time per node.
fn size_speed(report: &CompareReport) -> anyhow::Result<String> {
    let beside = report
        .backends
        .iter()
        .any(|b| b.walk_beside_tree_sitter.is_some());
    let points = size_speed_points(report, |b| walk_ns(report, b));
    size_time_chart(
        report,
        &points,
        "Size against walking speed: bytes paid per node and full-walk time per node",
        if beside {
            "full preorder walk, time per node (timed beside tree-sitter), log scale"
        } else {
            "full preorder walk, time per node, log scale"
        },
    )
}

/// Bytes paid per node against node-at-offset time per lookup.
fn size_lookup(report: &CompareReport) -> anyhow::Result<String> {
    let points = size_speed_points(report, |b| operation_ns(report, b, Operation::NodeAtOffset));
    size_time_chart(
        report,
        &points,
        "Size against lookup speed: bytes paid per node and node-at-offset time per lookup",
        "node at offset, time per lookup, log scale",
    )
}

/// A label's box in pixels: left, top, right, bottom.
type LabelBox = (i32, i32, i32, i32);

fn overlaps(a: LabelBox, b: LabelBox) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// About how wide `text` is at `size` pixels in a sans-serif font.
fn text_width(text: &str, size: u32) -> i32 {
    (text.chars().count() as f64 * size as f64 * 0.48).ceil() as i32
}

/// One size–speed chart: a labelled point per backend, the frontier joining the points no other beats on both
/// axes, a vertical line per text-only row at its bytes per node, and the target's budget per node. Labels are
/// placed greedily, each at the first spot near its point that overlaps no label, point or line label already
/// drawn, with a leader line when it had to move away.
fn size_time_chart(
    report: &CompareReport,
    points: &[SizeSpeedPoint],
    caption: &str,
    y_desc: &str,
) -> anyhow::Result<String> {
    let nodes = report
        .backends
        .iter()
        .map(|b| b.nodes)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let parser = report
        .backends
        .iter()
        .find(|b| b.name == BASELINE_BACKEND)
        .or(report.backends.first())
        .map_or(0, |b| b.parser_footprint);
    let budget =
        (report.target_bytes > parser).then(|| (report.target_bytes - parser) as f64 / nodes);
    let texts: Vec<(String, f64)> = report
        .text_references
        .iter()
        .map(|t| (t.name.clone(), t.retained_footprint as f64 / nodes))
        .collect();
    let xs = points
        .iter()
        .map(|p| p.bytes_per_node)
        .chain(texts.iter().map(|t| t.1))
        .chain(budget);
    let (left, right) = log_range(xs, 4.0);
    let (bottom, top) = log_range(points.iter().map(|p| p.ns), 3.0);
    let size = (SIZE.0, SIZE.1 + 60);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 18))
            .margin(14)
            .x_label_area_size(45)
            .y_label_area_size(75)
            .build_cartesian_2d((left..right).log_scale(), (bottom..top).log_scale())?;
        chart
            .configure_mesh()
            .x_desc(format!(
                "bytes paid per node (store and static tables over the corpus's {} nodes), log scale",
                thousands_f(nodes)
            ))
            .y_desc(y_desc)
            .x_label_formatter(&|v| format!("{v} B"))
            .y_label_formatter(&|v| per_item(*v))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        let (px_range, py_range) = chart.plotting_area().get_pixel_range();
        let mut placed: Vec<LabelBox> = Vec::new();
        // Vertical lines, each labelled along its length from the bottom of the plot up.
        let vertical = |chart: &mut ChartContext<_, _>,
                        x: f64,
                        label: String,
                        style: ShapeStyle,
                        placed: &mut Vec<LabelBox>|
         -> anyhow::Result<()> {
            chart.draw_series(DashedLineSeries::new(
                vec![(x, bottom), (x, top)],
                6,
                4,
                style,
            ))?;
            let (px, _) = chart.backend_coord(&(x, bottom));
            let base = py_range.end - 6;
            root.draw(&Text::new(
                label.clone(),
                (px + 3, base),
                TextStyle::from(
                    ("sans-serif", 11)
                        .into_font()
                        .transform(FontTransform::Rotate270),
                )
                .color(&style.color)
                .pos(Pos::new(HPos::Left, VPos::Top)),
            ))?;
            placed.push((px - 1, base - text_width(&label, 11), px + 16, base));
            Ok(())
        };
        let grey = RGBColor(110, 110, 110);
        for (name, x) in &texts {
            vertical(
                &mut chart,
                *x,
                format!("{name}, text only: {x:.1} B"),
                grey.stroke_width(1),
                &mut placed,
            )?;
        }
        if let Some(x) = budget {
            vertical(
                &mut chart,
                x,
                format!(
                    "{} target less the parsers: {x:.1} B per node",
                    mb(report.target_bytes as f64)
                ),
                BLACK.stroke_width(2),
                &mut placed,
            )?;
        }
        let line: Vec<(f64, f64)> = frontier(points)
            .into_iter()
            .map(|i| (points[i].bytes_per_node, points[i].ns))
            .collect();
        let frontier_style = BLACK.mix(0.6).stroke_width(2);
        let centres: Vec<(i32, i32)> = points
            .iter()
            .map(|p| chart.backend_coord(&(p.bytes_per_node, p.ns)))
            .collect();
        for &(cx, cy) in &centres {
            placed.push((cx - 6, cy - 6, cx + 6, cy + 6));
        }
        for (p, &(cx, cy)) in points.iter().zip(&centres) {
            let label = format!(
                "{} ({:.1} B, {})",
                p.backend,
                p.bytes_per_node,
                per_item(p.ns)
            );
            let (w, h) = (text_width(&label, 13), 15);
            let inside = |b: LabelBox| {
                b.0 >= px_range.start
                    && b.2 <= px_range.end
                    && b.1 >= py_range.start
                    && b.3 <= py_range.end
            };
            let mut candidates = Vec::new();
            for step in 0..8 {
                for sign in [1, -1] {
                    let dy = sign * step * (h + 2);
                    candidates.push((cx + 9, cy - h / 2 + dy));
                    candidates.push((cx - 9 - w, cy - h / 2 + dy));
                }
                candidates.push((cx - w / 2, cy - 9 - h - step * (h + 2)));
                candidates.push((cx - w / 2, cy + 9 + step * (h + 2)));
            }
            let spot = candidates
                .iter()
                .map(|&(x, y)| (x, y, x + w, y + h))
                .find(|&b| inside(b) && !placed.iter().any(|&o| overlaps(o, b)))
                .unwrap_or((cx + 9, cy - h / 2, cx + 9 + w, cy + h / 2));
            let c = color(report, &p.backend);
            // The point of the label's box nearest the point: a leader line runs there when it is not close.
            let (nx, ny) = (cx.clamp(spot.0, spot.2), cy.clamp(spot.1, spot.3));
            if (nx - cx).abs().max((ny - cy).abs()) > 12 {
                root.draw(&PathElement::new(
                    vec![(cx, cy), (nx, ny)],
                    c.mix(0.7).stroke_width(1),
                ))?;
            }
            root.draw(&Rectangle::new(
                [(spot.0 - 1, spot.1), (spot.2 + 1, spot.3)],
                WHITE.mix(0.7).filled(),
            ))?;
            root.draw(&Text::new(
                label,
                (spot.0, spot.1),
                TextStyle::from(("sans-serif", 13).into_font())
                    .color(&c)
                    .pos(Pos::new(HPos::Left, VPos::Top)),
            ))?;
            placed.push(spot);
        }
        // The frontier and the points over the labels' backgrounds.
        chart.draw_series(LineSeries::new(line, frontier_style))?;
        for p in points {
            chart.draw_series([Circle::new(
                (p.bytes_per_node, p.ns),
                5,
                color(report, &p.backend).filled(),
            )])?;
        }
        // The frontier's key, in the first corner of the plot free of labels.
        let key = "frontier: the rows no other row beats on both size and time";
        let (w, h) = (text_width(key, 12) + 26, 16);
        let (l, r, t, b) = (
            px_range.start + 8,
            px_range.end - 8,
            py_range.start + 6,
            py_range.end - 6,
        );
        let corners = [(r - w, t), (l, t), (r - w, b - h), (l, b - h)];
        let (kx, ky) = corners
            .into_iter()
            .find(|&(x, y)| !placed.iter().any(|&o| overlaps(o, (x, y, x + w, y + h))))
            .unwrap_or(corners[0]);
        root.draw(&Rectangle::new(
            [(kx - 4, ky - 2), (kx + w + 4, ky + h + 2)],
            WHITE.mix(0.9).filled(),
        ))?;
        root.draw(&PathElement::new(
            vec![(kx, ky + h / 2), (kx + 20, ky + h / 2)],
            frontier_style,
        ))?;
        root.draw(&Text::new(
            key,
            (kx + 26, ky + 2),
            TextStyle::from(("sans-serif", 12).into_font()).pos(Pos::new(HPos::Left, VPos::Top)),
        ))?;
        root.present()?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::{frontier, SizeSpeedPoint};

    fn point(backend: &str, bytes_per_node: f64, ns: f64) -> SizeSpeedPoint {
        SizeSpeedPoint {
            backend: backend.into(),
            bytes_per_node,
            ns,
        }
    }

    #[test]
    fn the_frontier_keeps_exactly_the_points_no_other_beats_on_both_axes() {
        let points = [
            point("big-and-slow", 100.0, 800.0),
            point("fast", 40.0, 10.0),
            point("small", 1.0, 300.0),
            point("middle", 3.5, 20.0),
            // Beaten by `middle` on both.
            point("beaten", 30.0, 190.0),
            // As small as `small` and slower: beaten on one axis, equal on the other.
            point("tied-but-slower", 1.0, 400.0),
            // As fast as `fast` and bigger.
            point("tied-but-bigger", 60.0, 10.0),
            // Identical points do not beat each other: both stay.
            point("twin", 3.5, 20.0),
        ];
        let names: Vec<&str> = frontier(&points)
            .into_iter()
            .map(|i| points[i].backend.as_str())
            .collect();
        assert_eq!(names, ["small", "middle", "twin", "fast"]);
        assert!(frontier(&[]).is_empty());
        assert_eq!(frontier(&points[..1]), [0]);
    }
}
