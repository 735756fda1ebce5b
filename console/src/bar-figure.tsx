import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

/** One bar of each row: its key in the data, its name in the legend, its colour (dark enough on white, WCAG AA). */
export interface Series {
  key: string;
  name: string;
  fill: string;
}

/**
 * A bar chart drawn locally (Recharts, as category-chart.tsx), for the data-quality and analytics
 * screens. Each chart sits beside a table of the same figures, which is what a screen reader reads.
 */
export default function BarFigure(props: {
  caption: string;
  data: Record<string, string | number | null>[];
  xKey: string;
  series: Series[];
  stacked?: boolean;
  domain?: [number, number];
}) {
  return (
    <figure style={{ margin: 0 }}>
      <figcaption>{props.caption}</figcaption>
      <ResponsiveContainer width="100%" height={300}>
        <BarChart data={props.data}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey={props.xKey} />
          <YAxis domain={props.domain} />
          <Tooltip />
          <Legend />
          {props.series.map((s) => (
            <Bar key={s.key} dataKey={s.key} name={s.name} fill={s.fill} stackId={props.stacked ? 'all' : undefined} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}
