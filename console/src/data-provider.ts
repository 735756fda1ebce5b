import type { DataProvider, GetListParams, RaRecord } from 'react-admin';
import type { Asset, AssetInput } from '../../src/assets/schema';
import type { Switch } from '../../src/switching/switches';
import { api, query } from './api';

/** A page of a keyset-paginated list (docs/api-guide.md, "Paging"). */
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Filters the assets list passes to GET /api/v1/assets. */
const ASSET_FILTERS = ['category', 'status', 'dno', 'gspGroup', 'fspId', 'organisationId', 'identifier'] as const;

/**
 * React-Admin counts pages; the API hands out cursors. The cursor that opens page n of a list
 * (same resource, filters and page size) is the nextCursor of page n − 1, remembered here; a page
 * whose cursor is not known (a deep link) starts again from page 1. No total is counted: lists say
 * whether there is a next page (React-Admin's partial pagination), so paging stays fast at millions of rows.
 */
const cursors = new Map<string, (string | undefined)[]>();

/** One keyset page of `path` (filters named by `keys`), with the cursors remembered per filter and page size. */
async function keysetPage<T>(resource: string, path: string, keys: readonly string[], params: GetListParams) {
  const { page, perPage } = params.pagination ?? { page: 1, perPage: 25 };
  const filter = Object.fromEntries(keys.map((k) => [k, params.filter?.[k] as string | undefined]));
  const key = JSON.stringify({ resource, filter, perPage });
  const known = cursors.get(key) ?? [undefined, undefined];
  cursors.set(key, known);
  const at = page > 1 && known[page] !== undefined ? page : 1;
  const out = await api<Page<T>>(`${path}${query({ ...filter, limit: perPage, cursor: known[at] })}`);
  known[at + 1] = out.nextCursor ?? undefined;
  return { data: out.items, pageInfo: { hasNextPage: out.nextCursor !== null, hasPreviousPage: at > 1 } };
}

/** The keyset-paginated lists: the API path and the filters it takes. */
const LISTS: Record<string, { path: string; filters: readonly string[] }> = {
  assets: { path: '/assets', filters: ASSET_FILTERS },
  organisations: { path: '/organisations', filters: ['role', 'status'] },
  disputes: { path: '/disputes', filters: ['status', 'recordType', 'recordId'] },
  products: { path: '/products', filters: ['market', 'status', 'serviceType'] },
  qualifications: { path: '/qualifications', filters: ['outcome', 'current', 'productId', 'marketUnitId'] },
};

/** The records read one by one: the API path of one. */
const ONE: Record<string, string> = {
  assets: '/assets',
  organisations: '/organisations',
  disputes: '/disputes',
  products: '/products',
};

const unsupported = (what: string) => () => Promise.reject(new Error(`The console does not ${what} yet.`));

/** The data provider: React-Admin's calls as calls of the public API. */
export const dataProvider: DataProvider = {
  async getList(resource, params) {
    const list = LISTS[resource];
    if (list) return keysetPage<RaRecord>(resource, list.path, list.filters, params) as never;
    if (resource === 'switches') {
      // The API answers every switch the organisation is party to at once (no cursor): paged here.
      const { page, perPage } = params.pagination ?? { page: 1, perPage: 25 };
      const status = params.filter?.status as string | undefined;
      const all = (await api<{ items: Switch[] }>(`/switches${query({ status })}`)).items;
      return { data: all.slice((page - 1) * perPage, page * perPage) as never, total: all.length };
    }
    throw new Error(`No list of ${resource}`);
  },
  async getOne(resource, params) {
    const path = ONE[resource];
    if (path) return { data: (await api<RaRecord>(`${path}/${encodeURIComponent(String(params.id))}`)) as never };
    throw new Error(`No ${resource}`);
  },
  async getMany(resource, params) {
    const data = await Promise.all(params.ids.map((id) => api<RaRecord>(`/${resource}/${encodeURIComponent(String(id))}`)));
    return { data: data as never };
  },
  async create(resource, params) {
    if (resource !== 'assets') throw new Error(`Cannot create ${resource}`);
    const body = params.data as AssetInput;
    const asset = await api<Asset>('/assets', {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'idempotency-key': crypto.randomUUID() },
    });
    return { data: asset as never };
  },
  getManyReference: unsupported('list references'),
  update: unsupported('edit records'),
  updateMany: unsupported('edit records'),
  delete: unsupported('delete records'),
  deleteMany: unsupported('delete records'),
};
