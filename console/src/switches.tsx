import { Datagrid, DateField, FunctionField, List, SelectInput, TextField } from 'react-admin';
import type { Switch } from '../../src/switching/switches';
import { useSession } from './session';

const STATUSES = ['REQUESTED', 'PENDING', 'EFFECTIVE', 'REJECTED', 'CANCELLED', 'WITHDRAWN', 'FAILED'].map((s) => ({
  id: s,
  name: s.toLowerCase(),
}));

/** Switches the organisation is party to (GET /api/v1/switches): in (gaining) or out (losing). */
export function SwitchList() {
  const s = useSession();
  return (
    <List title="Switches" filters={[<SelectInput key="status" source="status" choices={STATUSES} alwaysOn />]} perPage={25} empty={false}>
      <Datagrid bulkActionButtons={false} rowClick={false}>
        <FunctionField
          label="Direction"
          render={(r: Switch) => (r.gainingFspId === s?.organisationId ? 'in' : r.losingFspId === s?.organisationId ? 'out' : '—')}
        />
        <TextField source="status" sortable={false} />
        <TextField source="assetId" label="Asset" sortable={false} />
        <DateField source="effectiveDate" label="Effective" locales="en-GB" sortable={false} />
        <TextField source="losingFspId" label="Losing FSP" sortable={false} />
        <TextField source="gainingFspId" label="Gaining FSP" sortable={false} />
        <DateField source="requestedAt" label="Requested" showTime locales="en-GB" sortable={false} />
      </Datagrid>
    </List>
  );
}
