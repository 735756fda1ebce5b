import { z } from '@hono/zod-openapi';
import { dnoForDistributor } from '../catalogue/codes';
import { mcsApplies, type Validation } from './rules';

/**
 * Ports for the external registries the validation asks (docs/data-quality.md): a meter point
 * registry in the manner of ECOES (does the MPAN exist, its distributor, GSP group, energisation)
 * and the MCS installation register (is there a certificate for this serial and category). Each
 * answers found / not found, or throws: a registry that cannot answer is never a pass.
 */

export interface MeterPoint {
  mpan: string;
  distributorId: string;
  gspGroup: string | null;
  energised: boolean | null;
}
export interface MeterPointRegistry {
  lookup(mpan: string): Promise<MeterPoint | null>;
}
export interface McsCertificate {
  certificateNumber: string;
}
export interface McsRegister {
  certificate(serialNumber: string, category: string): Promise<McsCertificate | null>;
}
/** A company on the companies register (Companies House): its number, name and status (e.g. active, dissolved). */
export interface Company {
  number: string;
  name: string;
  status: string;
}
export interface CompanyRegister {
  company(number: string): Promise<Company | null>;
}
export interface ExternalRegistries {
  meterPoints?: MeterPointRegistry;
  mcs?: McsRegister;
  /** Asked when an applicant submits an LTD, PLC or LLP (src/onboarding/); its answer is kept for the operator. */
  companies?: CompanyRegister;
}

export class RegistryUnavailable extends Error {}

const MeterPointBody = z.object({
  mpan: z.string(),
  distributorId: z.string().regex(/^\d{2}$/),
  gspGroup: z.string().nullable().optional(),
  energised: z.boolean().nullable().optional(),
});
const McsBody = z.object({ certificates: z.array(z.object({ certificateNumber: z.string() })) });
const CompanyBody = z.object({ companyNumber: z.string(), companyName: z.string(), companyStatus: z.string() });

export interface HttpRegistrySettings {
  baseUrl: string;
  apiKey?: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** GET JSON with a timeout; 404 is "not found"; anything else that is not a 200 with the expected shape is unavailable. */
async function getJson<T>(s: HttpRegistrySettings, path: string, shape: z.ZodType<T>): Promise<T | null> {
  const f = s.fetch ?? fetch;
  let res: Response;
  try {
    res = await f(`${s.baseUrl.replace(/\/$/, '')}${path}`, {
      headers: { accept: 'application/json', ...(s.apiKey ? { 'x-api-key': s.apiKey } : {}) },
      signal: AbortSignal.timeout(s.timeoutMs),
    });
  } catch (e) {
    throw new RegistryUnavailable(`${path}: ${(e as Error).message}`);
  }
  if (res.status === 404) {
    await res.body?.cancel();
    return null;
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new RegistryUnavailable(`${path}: HTTP ${res.status}`);
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new RegistryUnavailable(`${path}: not JSON`);
  }
  const parsed = shape.safeParse(body);
  if (!parsed.success) throw new RegistryUnavailable(`${path}: unexpected answer`);
  return parsed.data;
}

/** The meter point registry over HTTP: `GET {base}/meter-points/{mpan}` → {mpan, distributorId, gspGroup, energised}. */
export function httpMeterPointRegistry(s: HttpRegistrySettings): MeterPointRegistry {
  return {
    async lookup(mpan) {
      const b = await getJson(s, `/meter-points/${encodeURIComponent(mpan)}`, MeterPointBody);
      if (!b) return null;
      if (b.mpan !== mpan) throw new RegistryUnavailable(`meter point registry answered for ${b.mpan}, not ${mpan}`);
      return { mpan: b.mpan, distributorId: b.distributorId, gspGroup: b.gspGroup ?? null, energised: b.energised ?? null };
    },
  };
}

/** The MCS register over HTTP: `GET {base}/installations?serialNumber=&category=` → {certificates: [...]}. */
export function httpMcsRegister(s: HttpRegistrySettings): McsRegister {
  return {
    async certificate(serialNumber, category) {
      const b = await getJson(
        s,
        `/installations?serialNumber=${encodeURIComponent(serialNumber)}&category=${encodeURIComponent(category)}`,
        McsBody,
      );
      return b && b.certificates.length ? b.certificates[0] : null;
    },
  };
}

/** The companies register over HTTP: `GET {base}/companies/{number}` → {companyNumber, companyName, companyStatus}. */
export function httpCompanyRegister(s: HttpRegistrySettings): CompanyRegister {
  return {
    async company(number) {
      const b = await getJson(s, `/companies/${encodeURIComponent(number)}`, CompanyBody);
      if (!b) return null;
      if (b.companyNumber.toUpperCase() !== number.toUpperCase())
        throw new RegistryUnavailable(`companies register answered for ${b.companyNumber}, not ${number}`);
      return { number: b.companyNumber, name: b.companyName, status: b.companyStatus };
    },
  };
}

/**
 * The adapters configured by environment: FMAR_METER_POINT_URL / FMAR_METER_POINT_KEY,
 * FMAR_MCS_URL / FMAR_MCS_KEY, FMAR_COMPANIES_URL / FMAR_COMPANIES_KEY, FMAR_REGISTRY_TIMEOUT_MS (default 3000). A registry without a URL
 * is absent, and a validation records its check as unavailable.
 */
export function registriesFromEnv(env: Record<string, string | undefined>): ExternalRegistries {
  const timeoutMs = Number(env.FMAR_REGISTRY_TIMEOUT_MS ?? 3000);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 30_000) throw new Error('FMAR_REGISTRY_TIMEOUT_MS must be 1–30000');
  return {
    meterPoints: env.FMAR_METER_POINT_URL
      ? httpMeterPointRegistry({ baseUrl: env.FMAR_METER_POINT_URL, apiKey: env.FMAR_METER_POINT_KEY, timeoutMs })
      : undefined,
    mcs: env.FMAR_MCS_URL ? httpMcsRegister({ baseUrl: env.FMAR_MCS_URL, apiKey: env.FMAR_MCS_KEY, timeoutMs }) : undefined,
    companies: env.FMAR_COMPANIES_URL
      ? httpCompanyRegister({ baseUrl: env.FMAR_COMPANIES_URL, apiKey: env.FMAR_COMPANIES_KEY, timeoutMs })
      : undefined,
  };
}

/** In-memory registries (tests, demos): what they know, and a switch to make them fail. */
export class MemoryRegistries implements ExternalRegistries {
  readonly points = new Map<string, MeterPoint>();
  readonly certificates = new Map<string, McsCertificate>();
  readonly companyList = new Map<string, Company>();
  down = { meterPoints: false, mcs: false, companies: false };
  calls = 0;
  readonly meterPoints: MeterPointRegistry = {
    lookup: async (mpan) => {
      this.calls++;
      if (this.down.meterPoints) throw new RegistryUnavailable('meter point registry down');
      return this.points.get(mpan) ?? null;
    },
  };
  readonly companies: CompanyRegister = {
    company: async (number) => {
      this.calls++;
      if (this.down.companies) throw new RegistryUnavailable('companies register down');
      return this.companyList.get(number.toUpperCase()) ?? null;
    },
  };
  readonly mcs: McsRegister = {
    certificate: async (serial, category) => {
      this.calls++;
      if (this.down.mcs) throw new RegistryUnavailable('MCS register down');
      return this.certificates.get(`${serial}|${category}`) ?? null;
    },
  };
}

/**
 * Ask the registries about an asset, outside any transaction (no lock is held during a network
 * call). Each answer, a "not found", or — failing closed — "unavailable" when a registry is not
 * configured, times out, errors or answers nonsense.
 */
export async function runChecks(
  reg: ExternalRegistries,
  a: { importMpan: string | null; exportMpan: string | null; serialNumber: string | null; category: string; ratedCapacityKw: number },
  which: ('meterPoint' | 'mcs')[] = ['meterPoint', 'mcs'],
): Promise<Validation> {
  const out: Validation = {};
  const mpan = a.importMpan ?? a.exportMpan;
  if (which.includes('meterPoint')) {
    if (!mpan) out.meterPoint = { status: 'not-applicable', mpan: null };
    else if (!reg.meterPoints) out.meterPoint = { status: 'unavailable', mpan };
    else {
      try {
        const p = await reg.meterPoints.lookup(mpan);
        out.meterPoint = p
          ? {
              status: 'ok',
              mpan,
              distributorId: p.distributorId,
              dno: dnoForDistributor(p.distributorId) ?? null,
              gspGroup: p.gspGroup,
              energised: p.energised,
            }
          : { status: 'not-found', mpan };
      } catch {
        out.meterPoint = { status: 'unavailable', mpan };
      }
    }
  }
  if (which.includes('mcs')) {
    const base = { serialNumber: a.serialNumber, category: a.category, ratedCapacityKw: a.ratedCapacityKw };
    if (!mcsApplies(a) || !a.serialNumber) out.mcs = { status: 'not-applicable', ...base };
    else if (!reg.mcs) out.mcs = { status: 'unavailable', ...base };
    else {
      try {
        const c = await reg.mcs.certificate(a.serialNumber, a.category);
        out.mcs = c ? { status: 'ok', ...base, certificate: c.certificateNumber } : { status: 'not-found', ...base };
      } catch {
        out.mcs = { status: 'unavailable', ...base };
      }
    }
  }
  return out;
}

/** Whether every registry asked answered (found or not); an unavailable one keeps an asset from Verified. */
export function allAnswered(v: Validation): boolean {
  return v.meterPoint?.status !== 'unavailable' && v.mcs?.status !== 'unavailable';
}
