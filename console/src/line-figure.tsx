import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Series } from './bar-figure';

/**
 * A line chart over time drawn locally (Recharts, as bar-figure.tsx), for the data-quality
 * scorecards over time. It sits beside a table of the same figures, which is what a screen reader reads.
 */
export default function LineFigure(props: {
  caption: string;
  data: Record<string, string | number | null>[];
  xKey: string;
  series: Series[];
  domain?: [number, number];
}) {
  return (
    <figure style={{ margin: 0 }}>
      <figcaption>{props.caption}</figcaption>
      <ResponsiveContainer width="100%" height={300}>
        <LineChart data={props.data}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey={props.xKey} />
          <YAxis domain={props.domain} allowDecimals={false} />
          <Tooltip />
          <Legend />
          {props.series.map((s) => (
            <Line
              key={s.key}
              type="monotone"
              dataKey={s.key}
              name={s.name}
              stroke={s.fill}
              strokeWidth={2}
              dot
              isAnimationActive={false}
              connectNulls
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}
