//! SVG line chart of a server's recent CPU, with the alert threshold as a dashed line.

use contracts::CpuSample;
use leptos::prelude::*;

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 160.0;
/// Width of the margin on the left for the axis labels, in SVG units.
const LEFT: f64 = 34.0;
/// Time the chart spans. The monitor keeps up to 120 samples, which is ten minutes at its
/// default interval of 5 s.
const SPAN_SECONDS: f64 = 600.0;

fn y_of(pct: f64) -> f64 {
    HEIGHT - pct.clamp(0.0, 100.0) / 100.0 * (HEIGHT - 10.0) - 5.0
}

/// Formats the samples as SVG polyline points, newest at the right edge. Samples older than
/// [`SPAN_SECONDS`] are drawn at the left edge.
fn points(samples: &[CpuSample]) -> String {
    let Some(newest) = samples.last() else {
        return String::new();
    };
    samples
        .iter()
        .map(|sample| {
            let age = (newest.at - sample.at).num_milliseconds() as f64 / 1000.0;
            let x = WIDTH - age.min(SPAN_SECONDS) / SPAN_SECONDS * (WIDTH - LEFT);
            format!("{x:.1},{:.1}", y_of(sample.cpu_pct))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[component]
pub fn CpuChart(samples: Vec<CpuSample>, threshold_pct: f64) -> impl IntoView {
    let line = points(&samples);
    let area = match (samples.first(), line.is_empty()) {
        (Some(_), false) => {
            let first_x = line.split(',').next().unwrap_or("0").to_string();
            format!("{first_x},{HEIGHT} {line} {WIDTH},{HEIGHT}")
        }
        _ => String::new(),
    };
    let threshold_y = y_of(threshold_pct);
    let label = format!("Alert threshold {threshold_pct:.0} %");
    let summary = format!(
        "CPU over the last ten minutes, {} samples; alert threshold {threshold_pct:.0} %",
        samples.len()
    );
    view! {
        <svg
            viewBox=format!("0 0 {WIDTH} {HEIGHT}")
            class="h-auto w-full"
            role="img"
            aria-label=summary
            data-testid="cpu-chart"
        >
            {[0.0, 50.0, 100.0]
                .into_iter()
                .map(|pct| {
                    let y = y_of(pct);
                    view! {
                        <line x1=LEFT x2=WIDTH y1=y y2=y stroke="#e2e8f0" stroke-width="1"></line>
                        <text x="0" y=y + 4.0 font-size="11" fill="#64748b">{format!("{pct:.0}%")}</text>
                    }
                })
                .collect_view()}
            <polygon points=area fill="#0ea5e9" fill-opacity="0.12"></polygon>
            <polyline points=line fill="none" stroke="#0284c7" stroke-width="2" stroke-linejoin="round"></polyline>
            <line
                x1=LEFT
                x2=WIDTH
                y1=threshold_y
                y2=threshold_y
                stroke="#dc2626"
                stroke-width="1.5"
                stroke-dasharray="6 4"
            ></line>
            <text x=WIDTH - 4.0 y=threshold_y - 5.0 font-size="11" fill="#dc2626" text-anchor="end">
                {label}
            </text>
        </svg>
    }
}
