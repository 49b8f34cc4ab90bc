// Charts as self-contained SVG strings, rendered by Apache ECharts' server-side SVG renderer: no DOM, no
// canvas, no browser script. The HTML report inlines them and the dashboard swaps them in on refresh, so both
// show identical pictures and the browser runs no charting code.
import * as echarts from 'echarts';
import { RATING_LABELS } from './answers';

type Option = echarts.EChartsOption;

/** Terrible..Amazing, red to green, the order every rating chart uses. */
export const RATING_COLOURS = ['#c0392b', '#e67e22', '#b7b7b7', '#7fb77e', '#2e8b57'] as const;
export const ASSISTANCE_COLOUR = '#3b7dd8';
export const EMERGENCY_COLOUR = '#c0392b';
const INK = '#333';
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

export interface ChartSize {
  width: number;
  height: number;
}

// Server-side rendering estimates text widths without a font, so legend labels get generous gaps.
const LEGEND = { top: 0, itemGap: 28 };

const DEFAULT_SIZE: ChartSize = { width: 560, height: 320 };

/** `description` becomes the SVG's aria-label: the chart's one-sentence summary for screen readers. */
export function renderSvg(option: Option, description: string, size: ChartSize = DEFAULT_SIZE): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, ...size });
  try {
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: FONT, color: INK },
      aria: { enabled: true, label: { description } },
      ...option,
    });
    return chart.renderToSVGString({ useViewBox: true });
  } finally {
    chart.dispose();
  }
}

export interface BarSeries {
  name: string;
  values: (number | null)[];
  colour?: string;
}

/**
 * Bars per category; `stacked` stacks the series (parts of one whole), otherwise they stand side by side.
 * Horizontal bars suit long exhibition names.
 */
export function barChart(opts: {
  categories: string[];
  series: BarSeries[];
  valueName: string;
  horizontal?: boolean;
  stacked?: boolean;
  percent?: boolean;
  max?: number;
  /** Fixed decimals for the bar labels (averages read 2.20, not 2.2). */
  decimals?: number;
  /** A dashed line across the bars at this value, e.g. their average. */
  reference?: { value: number; label: string };
}): Option {
  const categoryAxis = {
    type: 'category' as const,
    data: opts.categories,
    // Every exhibition name is shown; hour labels thin out past a dozen, because server-side rendering cannot
    // measure text to hide overlapping labels reliably.
    axisLabel: {
      interval: opts.horizontal || opts.categories.length <= 12 ? 0 : 1,
      width: 150,
      overflow: 'truncate' as const,
    },
    inverse: opts.horizontal === true,
  };
  const valueAxis = {
    type: 'value' as const,
    name: opts.valueName,
    nameLocation: 'middle' as const,
    nameGap: opts.horizontal ? 28 : 40,
    minInterval: opts.percent ? undefined : 1,
    max: opts.max,
    axisLabel: opts.percent ? { formatter: '{value}%' } : {},
  };
  const showLegend = opts.series.length > 1;
  return {
    legend: showLegend ? LEGEND : { show: false },
    grid: {
      left: opts.horizontal ? 160 : 56,
      right: 24,
      top: showLegend || opts.reference ? 36 : 16,
      bottom: opts.horizontal ? 44 : 56,
    },
    xAxis: opts.horizontal ? valueAxis : categoryAxis,
    yAxis: opts.horizontal ? categoryAxis : valueAxis,
    series: opts.series.map((s, i) => ({
      type: 'bar' as const,
      name: s.name,
      markLine:
        opts.reference && i === 0
          ? {
              symbol: 'none',
              data: [opts.horizontal ? { xAxis: opts.reference.value } : { yAxis: opts.reference.value }],
              // Horizontal charts list categories top-down (inverse axis), so the line "starts" at the top.
              label: { formatter: opts.reference.label, position: opts.horizontal ? 'start' : 'end' },
              lineStyle: { color: '#555', type: 'dashed' as const },
            }
          : undefined,
      data: s.values,
      stack: opts.stacked ? 'total' : undefined,
      itemStyle: s.colour ? { color: s.colour } : undefined,
      label: opts.stacked
        ? undefined
        : {
            show: true,
            position: opts.horizontal ? ('right' as const) : ('top' as const),
            fontSize: 10,
            // A zero bar has no length to label; its "0" would only clutter the axis.
            formatter: (p: { value?: unknown }) =>
              typeof p.value === 'number' && p.value !== 0
                ? `${opts.decimals === undefined ? p.value : p.value.toFixed(opts.decimals)}${opts.percent ? '%' : ''}`
                : '',
          },
    })),
  };
}

/** Rating distribution: one stacked bar per row, coloured Terrible..Amazing. */
export function ratingDistributionChart(
  rows: { label: string; counts: number[] }[],
  percent = false,
): Option {
  return barChart({
    categories: rows.map((r) => r.label),
    valueName: percent ? 'share of ratings' : 'ratings',
    horizontal: true,
    stacked: true,
    percent,
    max: percent ? 100 : undefined,
    series: RATING_LABELS.map((name, v) => ({
      name,
      colour: RATING_COLOURS[v],
      values: rows.map((r) => {
        const count = r.counts[v] ?? 0;
        if (!percent) return count;
        const total = r.counts.reduce((a, b) => a + b, 0);
        return total === 0 ? 0 : Math.round((1000 * count) / total) / 10;
      }),
    })),
  });
}

/** Ratings per London hour as bars, the average rating as a line on its own 0..4 axis. */
export function ratingsByHourChart(
  rows: { hour: number; ratings: number; avgRating: number | null }[],
): Option {
  return {
    legend: LEGEND,
    grid: { left: 56, right: 56, top: 36, bottom: 48 },
    xAxis: {
      type: 'category',
      data: rows.map((r) => hourLabel(r.hour)),
      axisLabel: { interval: rows.length <= 12 ? 0 : 1 },
      name: 'hour (Europe/London)',
      nameLocation: 'middle',
      nameGap: 30,
    },
    yAxis: [
      { type: 'value', name: 'ratings', minInterval: 1 },
      { type: 'value', name: 'average', min: 0, max: 4, interval: 1, splitLine: { show: false } },
    ],
    series: [
      { type: 'bar', name: 'ratings', data: rows.map((r) => r.ratings), itemStyle: { color: '#9db7d5' } },
      {
        type: 'line',
        name: 'average rating',
        yAxisIndex: 1,
        data: rows.map((r) => (r.avgRating === null ? null : round2(r.avgRating))),
        itemStyle: { color: '#2e8b57' },
        lineStyle: { width: 3 },
        label: { show: true, fontSize: 10, position: 'top' },
      },
    ],
  };
}

/** Requests per exhibition (rows) and London hour (columns); darker is more. */
export function requestHeatmap(
  exhibitions: string[],
  hours: number[],
  cells: { exhibition: number; hourIndex: number; value: number }[],
): Option {
  const max = Math.max(1, ...cells.map((c) => c.value));
  return {
    grid: { left: 160, right: 24, top: 16, bottom: 76 },
    xAxis: {
      type: 'category',
      data: hours.map(hourLabel),
      splitArea: { show: true },
      axisLabel: { interval: hours.length <= 12 ? 0 : 1, fontSize: 10 },
      name: 'hour (Europe/London)',
      nameLocation: 'middle',
      nameGap: 28,
    },
    yAxis: {
      type: 'category',
      data: exhibitions,
      inverse: true,
      splitArea: { show: true },
      axisLabel: { width: 150, overflow: 'truncate' },
    },
    visualMap: {
      min: 0,
      max,
      calculable: false,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      itemHeight: 120,
      text: [`${max} requests`, '0'],
      inRange: { color: ['#f4f7fb', '#3b7dd8', '#17375e'] },
    },
    series: [
      {
        type: 'heatmap',
        name: 'requests',
        data: cells.map((c) => [c.hourIndex, c.exhibition, c.value]),
        label: { show: true, fontSize: 10 },
      },
    ],
  };
}

export function hourLabel(hour: number): string {
  return `${String(hour).padStart(2, '0')}:00`;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
