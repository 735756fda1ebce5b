import { createRoot } from 'react-dom/client';
import { Admin, Resource, ListGuesser } from 'react-admin';

createRoot(document.getElementById('root')!).render(
  <Admin dataProvider={undefined as never}>
    <Resource name="assets" list={ListGuesser} />
  </Admin>,
);
