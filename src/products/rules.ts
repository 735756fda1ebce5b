import { fieldError, type FieldError } from '../http/problem';
import type { RuleCode } from '../rules';
import { PRODUCT_ID_MAX, PRODUCT_ID_RE, type Equivalence, type Product } from './schema';

/** The rules of products, qualification and equivalences that need no database: pure, tested by code. */

/** A product ID's format, and that it starts with its market. */
export function productIdErrors(id: string, market: Product['market']): FieldError[] {
  if (id.length > PRODUCT_ID_MAX || !PRODUCT_ID_RE.test(id))
    return [fieldError('id', 'PRODUCT-ID-FORMAT', `${JSON.stringify(id)} is not a product ID (e.g. NESO-DFS, DSO-SUSTAIN-PEAK).`)];
  if (!id.startsWith(`${market}-`)) return [fieldError('id', 'PRODUCT-ID-MARKET', `A ${market} product's ID starts with ${market}-.`)];
  return [];
}

/** validTo, when given, is after validFrom. */
export function periodErrors(
  validFrom: string,
  validTo: string | null | undefined,
  code: RuleCode & ('PRODUCT-PERIOD' | 'QUALIFICATION-PERIOD'),
): FieldError[] {
  if (validTo && new Date(validTo).getTime() <= new Date(validFrom).getTime())
    return [fieldError('validTo', code, `validTo ${validTo} is not after validFrom ${validFrom}.`)];
  return [];
}

/**
 * Who may record a qualification for the product: only its owning System Operator. Returns the
 * rule broken, or undefined when the caller's organisation owns it.
 */
export function qualificationRecorder(
  product: Pick<Product, 'ownerOrganisationId'>,
  organisationId: string,
): 'QUALIFICATION-PRODUCT-UNOWNED' | 'QUALIFICATION-NOT-PRODUCT-OWNER' | undefined {
  if (!product.ownerOrganisationId) return 'QUALIFICATION-PRODUCT-UNOWNED';
  return product.ownerOrganisationId === organisationId ? undefined : 'QUALIFICATION-NOT-PRODUCT-OWNER';
}

export interface Related {
  productId: string;
  equivalenceId: string;
  kind: Equivalence['kind'];
  direction: 'both' | 'to' | 'from';
}

/**
 * The products related to `productId` by active equivalences: EQUIVALENT either way round
 * (`both`); SUBSTITUTABLE A → B is `to` B seen from A and `from` A seen from B.
 */
export function relatedProducts(
  productId: string,
  equivalences: Pick<Equivalence, 'id' | 'productA' | 'productB' | 'kind' | 'status'>[],
): Related[] {
  const out: Related[] = [];
  for (const e of equivalences) {
    if (e.status !== 'ACTIVE') continue;
    if (e.productA === productId)
      out.push({ productId: e.productB, equivalenceId: e.id, kind: e.kind, direction: e.kind === 'EQUIVALENT' ? 'both' : 'to' });
    else if (e.productB === productId)
      out.push({ productId: e.productA, equivalenceId: e.id, kind: e.kind, direction: e.kind === 'EQUIVALENT' ? 'both' : 'from' });
  }
  return out.sort((a, b) => a.productId.localeCompare(b.productId));
}

/**
 * Opportunities of a unit (UC-04.03): products a unit qualified for `qualified` may offer through
 * an equivalence (EQUIVALENT, or SUBSTITUTABLE from a qualified product) and is not qualified for.
 * One entry per product, through the first qualified product in ID order.
 */
export function opportunities(
  qualified: string[],
  equivalences: Parameters<typeof relatedProducts>[1],
): { productId: string; viaProductId: string; equivalenceId: string; kind: Equivalence['kind'] }[] {
  const have = new Set(qualified);
  const found = new Map<string, { productId: string; viaProductId: string; equivalenceId: string; kind: Equivalence['kind'] }>();
  for (const via of [...have].sort()) {
    for (const r of relatedProducts(via, equivalences)) {
      if (r.direction === 'from' || have.has(r.productId) || found.has(r.productId)) continue;
      found.set(r.productId, { productId: r.productId, viaProductId: via, equivalenceId: r.equivalenceId, kind: r.kind });
    }
  }
  return [...found.values()].sort((a, b) => a.productId.localeCompare(b.productId));
}
