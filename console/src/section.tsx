import type { ReactNode } from 'react';
import { Card, CardContent, Typography } from '@mui/material';

/** A part of a page: a card named by its heading (a region a screen reader lists). */
export function Section(props: { title: string; children: ReactNode }) {
  return (
    <Card component="section" aria-label={props.title}>
      <CardContent>
        <Typography variant="h5" component="h2" gutterBottom>
          {props.title}
        </Typography>
        {props.children}
      </CardContent>
    </Card>
  );
}
