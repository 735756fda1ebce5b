import type { Sql } from '../storage/db';
import type { CatalogueCode, CatalogueSummary } from './schema';

/** SQL that belongs to the catalogue tables: column lists and row mappings (wire shapes). */

export const CODE_COLS = `catalogue, code, label, description, active, effective_from::text AS effective_from, effective_to::text AS effective_to, attributes, version, recorded_at, recorded_by`;

/** A row as CODE_COLS selects it (catalogue_code, 014_catalogues.sql), dates as text. */
export interface CodeRow {
  catalogue: string;
  code: string;
  label: string;
  description: string | null;
  active: boolean;
  effective_from: string | null;
  effective_to: string | null;
  attributes: Record<string, unknown> | null;
  version: number;
  recorded_at: Date;
  recorded_by: string;
}

export function toCode(r: CodeRow): CatalogueCode {
  return {
    catalogue: r.catalogue,
    code: r.code,
    label: r.label,
    description: r.description ?? null,
    active: !!r.active,
    effectiveFrom: r.effective_from ?? null,
    effectiveTo: r.effective_to ?? null,
    attributes: r.attributes ?? {},
    version: Number(r.version),
    recordedAt: new Date(r.recorded_at).toISOString(),
    recordedBy: r.recorded_by,
  };
}

const SUMMARY = `SELECT c.name, c.title, c.description, c.policy, c.code_pattern, to_jsonb(c.used_by) AS used_by,
    (SELECT count(*) FROM catalogue_code k WHERE k.catalogue = c.name)::int AS codes,
    (SELECT count(*) FROM catalogue_code k WHERE k.catalogue = c.name AND k.active)::int AS active_codes
  FROM catalogue c`;

interface SummaryRow {
  name: CatalogueSummary['name'];
  title: string;
  description: string;
  policy: CatalogueSummary['policy'];
  code_pattern: string;
  used_by: string[];
  codes: number;
  active_codes: number;
}

function toSummary(r: SummaryRow): CatalogueSummary {
  return {
    name: r.name,
    title: r.title,
    description: r.description,
    policy: r.policy,
    codePattern: r.code_pattern,
    usedBy: r.used_by,
    codes: Number(r.codes),
    activeCodes: Number(r.active_codes),
  };
}

export async function selectCatalogues(db: Sql): Promise<CatalogueSummary[]> {
  return (await db.query<SummaryRow>(`${SUMMARY} ORDER BY c.name`)).map(toSummary);
}

export async function selectCatalogue(db: Sql, name: string, forUpdate = false): Promise<CatalogueSummary | undefined> {
  // Locking the catalogue row serialises its writers (two adds of one code meet the primary key anyway).
  if (forUpdate) await db.query(`SELECT 1 FROM catalogue WHERE name = $1 FOR UPDATE`, [name]);
  const [r] = await db.query<SummaryRow>(`${SUMMARY} WHERE c.name = $1`, [name]);
  return r ? toSummary(r) : undefined;
}

export async function selectCodes(db: Sql, name: string): Promise<CatalogueCode[]> {
  return (await db.query<CodeRow>(`SELECT ${CODE_COLS} FROM catalogue_code WHERE catalogue = $1 ORDER BY code`, [name])).map(toCode);
}

export async function selectCode(db: Sql, name: string, code: string, forUpdate = false): Promise<CatalogueCode | undefined> {
  const [r] = await db.query<CodeRow>(
    `SELECT ${CODE_COLS} FROM catalogue_code WHERE catalogue = $1 AND code = $2${forUpdate ? ' FOR UPDATE' : ''}`,
    [name, code],
  );
  return r ? toCode(r) : undefined;
}
