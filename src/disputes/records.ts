import { refuseIfAssetLimited } from '../access/asset-limit';
import type { Principal } from '../access/principal';
import { updateAssetIn } from '../assets/service';
import { selectAsset } from '../assets/store';
import { parseWithCodes } from '../catalogue/schema';
import { catalogueSnapshot } from '../catalogue/snapshot';
import type { Ctx } from '../context';
import { Problem } from '../http/problem';
import { fieldErrorsFromZod } from '../http/validation';
import { revocations } from '../identity/revocations';
import { ULID_RE } from '../ids';
import { OrganisationPatch } from '../organisations/schema';
import { getOrganisationRow, updateOrganisationIn } from '../organisations/service';
import type { Sql } from '../storage/db';
import { updateMarketUnitIn } from '../units/service';
import { selectUnit } from '../units/store';
import type { DisputedRecordType } from './schema';

/**
 * What a dispute needs from each kind of record, through that record's own module: whether the
 * caller sees it (the same visibility its read routes apply; out of reach is the record's own
 * 404, word for word), how a correction goes through its normal validated update in the
 * dispute's transaction, and what dispute events carry so that the recipients policy finds the
 * record's parties (src/events/recipients.ts).
 */
export interface DisputableRecord {
  /** Throws the record's own not-found problem unless the caller sees it. */
  assertVisible(tx: Sql, p: Principal, id: string): Promise<void>;
  /** Apply the correction with If-Match semantics in `tx`; the record's own rule codes on refusal. Returns the new version. */
  correct(
    tx: Sql,
    ctx: Ctx,
    actor: Principal,
    id: string,
    changes: Record<string, unknown>,
    version: number,
    disputeId: string,
  ): Promise<number>;
  eventData(id: string): Record<string, string>;
  /** Work for after the commit (organisations: drop the token-check caches). */
  afterCommit?: () => void;
}

const notFound = (code: 'ASSET-NOT-FOUND' | 'ORG-NOT-FOUND' | 'UNIT-NOT-FOUND', what: string, id: string) =>
  new Problem(code, `No ${what} ${id}.`);

export const DISPUTABLE: Record<DisputedRecordType, DisputableRecord> = {
  asset: {
    async assertVisible(tx, p, id) {
      if (!ULID_RE.test(id) || !(await selectAsset(tx, p, id))) throw notFound('ASSET-NOT-FOUND', 'asset', id);
    },
    async correct(tx, ctx, actor, id, changes, version, disputeId) {
      return (await updateAssetIn(tx, ctx, actor, id, changes, version, { disputeId })).asset.version;
    },
    eventData: (id) => ({ assetId: id }),
  },
  organisation: {
    // Every caller reads every organisation (organisations.read); the passport is theirs, the operator's and the regulator's.
    async assertVisible(tx, p, id) {
      refuseIfAssetLimited(p, 'a dispute on an organisation record');
      if (!(await getOrganisationRow(tx, id))) throw notFound('ORG-NOT-FOUND', 'organisation', id);
    },
    async correct(tx, ctx, actor, id, changes, version, disputeId) {
      const parsed = parseWithCodes(await catalogueSnapshot(ctx.db, ctx.clock, tx), () => OrganisationPatch.safeParse(changes));
      if (!parsed.success) throw new Problem('REQUEST-VALIDATION', 'The update is invalid.', {}, fieldErrorsFromZod(parsed.error, changes));
      return (await updateOrganisationIn(tx, ctx, actor, id, parsed.data, version, { disputeId })).version;
    },
    eventData: () => ({}),
    afterCommit: () => revocations.emit(),
  },
  market_unit: {
    async assertVisible(tx, p, id) {
      // A limited delegate reads disputes on its named assets only (disputeVisibility), so it raises none on a unit.
      refuseIfAssetLimited(p, 'a dispute on a market unit');
      if (!ULID_RE.test(id) || !(await selectUnit(tx, p, id))) throw notFound('UNIT-NOT-FOUND', 'market unit', id);
    },
    async correct(tx, ctx, actor, id, changes, version, disputeId) {
      return (await updateMarketUnitIn(tx, ctx, actor, id, changes, version, { disputeId })).unit.version;
    },
    eventData: (id) => ({ marketUnitId: id }),
  },
};
