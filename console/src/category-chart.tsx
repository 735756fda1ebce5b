import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

/** Rated capacity by category, drawn locally (Recharts). */
export default function CategoryChart({ data }: { data: { category: string; assets: number; kw: number }[] }) {
  return (
    <figure style={{ margin: 0 }}>
      <figcaption>Rated capacity (kW) by category</figcaption>
      <ResponsiveContainer width="100%" height={300}>
        <BarChart data={data}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="category" />
          <YAxis />
          <Tooltip />
          <Legend />
          <Bar dataKey="kw" name="Rated kW" fill="#1565c0" />
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}
