/**
 * A uPlot chart as a Preact component: `<Chart series={[...]} data={[xs, ys…]} />`. It sizes
 * itself to its container (ResizeObserver, so it fits a laptop and a tablet) and updates the
 * data in place rather than rebuilding the plot. x values are Unix seconds (uPlot's time axis).
 * Importing this module pulls uPlot's stylesheet into the dashboard's `app.css`.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  color: string;
  /** Draw as bars (histograms) instead of a line. */
  bars?: boolean;
}

export interface ChartProps {
  series: ChartSeries[];
  /** [x (Unix seconds), y1, y2…], equal lengths. */
  data: uPlot.AlignedData;
  height?: number;
  /** Called with the [from, to] x range (Unix seconds) the user selected by dragging. */
  onSelect?: (from: number, to: number) => void;
  title?: string;
}

export function Chart({ series, data, height = 200, onSelect, title }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const selectRef = useRef(onSelect);
  selectRef.current = onSelect;
  const shape = series.map((s) => `${s.label}:${s.bars ? 'b' : 'l'}`).join(',');

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const bars = uPlot.paths.bars ? uPlot.paths.bars({ size: [0.8, 40] }) : undefined;
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height,
      title,
      cursor: { drag: { x: true, y: false } },
      legend: { show: series.length > 1 },
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          fill: s.bars ? s.color : `${s.color}22`,
          width: s.bars ? 0 : 2,
          ...(s.bars && bars ? { paths: bars, points: { show: false } } : {}),
        })),
      ],
      axes: [{ stroke: '#8a94a6' }, { stroke: '#8a94a6', size: 50 }],
      hooks: {
        setSelect: [
          (u) => {
            if (!selectRef.current || u.select.width < 2) return;
            const from = u.posToVal(u.select.left, 'x');
            const to = u.posToVal(u.select.left + u.select.width, 'x');
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            selectRef.current(from, to);
          },
        ],
      },
    };
    const u = new uPlot(opts, data, el);
    plot.current = u;
    const observer = new ResizeObserver(() => u.setSize({ width: Math.max(el.clientWidth, 200), height }));
    observer.observe(el);
    return () => {
      observer.disconnect();
      u.destroy();
      plot.current = null;
    };
    // Rebuilt only when its series or height change; data updates go through setData below.
  }, [shape, height]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return <div class="chart" ref={box} />;
}
