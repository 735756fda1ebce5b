import { NAMESPACES, PROPERTY_VARIANTS } from './namespaces';
import { NAME_TYPES } from './names';

/**
 * The "Import" section of docs/cim-profile.md, rendered from the import's own tables (namespaces,
 * vendor variants, name types), so the document stays true of what the import reads.
 */
export function importMarkdown(o: {
  units: string[];
  networkReferences: readonly { ref: string; path: string }[];
  classSpellings: string;
}): string[] {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const byTarget = (target: 'asset' | 'organisation') => {
    const schemes = new Map<string, string[]>();
    for (const [name, t] of Object.entries(NAME_TYPES))
      if (t.target === target) schemes.set(t.scheme, [...(schemes.get(t.scheme) ?? []), name]);
    return [...schemes].map(([scheme, names]) => `| ${target} | \`${scheme}\` | ${names.map((n) => `\`${n}\``).join(', ')} |`);
  };
  return [
    '## Import',
    '',
    'An import reads RDF/XML in any of these namespaces (prefixes resolved from `xmlns`, never from their text):',
    '',
    '| Namespace | Read as | Note |',
    '|---|---|---|',
    ...NAMESPACES.map((n) => `| \`${n.iri}\` | \`${n.token}\`${n.version ? ` (${n.version})` : ''} | ${cell(n.description)} |`),
    '| `http://iec.ch/TC57/<year>/CIM-schema-cim<nn>#` | `cim` (CIM<nn>) | any dated IEC schema (CIM16 2012/2013/2014, CIM17 2012/2014/2016, …) |',
    '| `http://ucaiug.org/61970cim<nn>v<mm>…#` | `cim` (CIM<nn>) | UCA interoperability-test drafts, e.g. `http://ucaiug.org/61970cim18v02_61968cim14v00#` |',
    '',
    'Headers: `md:FullModel` (IEC 61970-552), `dcat:Dataset` (ENTSO-E network code profiles, CGMES 3.1: `dcterms:issued`,',
    '`dcterms:conformsTo`, `dcat:keyword`, `dcterms:requires`, `dcterms:publisher`) and `exch:InstanceSet` give each file’s',
    'creation time, profiles, dependencies and authority in the report (`files`); a header whose identifier is not a',
    '`urn:uuid`, whose time is not a date-time or that names no profile is `CIM-HEADER-INVALID`.',
    '',
    'A namespace not in this table is reported, named, as `CIM-NAMESPACE-UNKNOWN`; classes under it whose local name is a',
    'class the import reads (and their properties, by local name) are still read, and the finding lists them. Spellings',
    `some tools write are read as the standard name with a \`CIM-VENDOR-VARIANT\` warning: ${o.classSpellings}; ` +
      Object.entries(PROPERTY_VARIANTS)
        .map(([v, s]) => `\`${v}\` for \`${s}\``)
        .join(', ') +
      '.',
    '',
    'Several files of one model (EQ + SSH) are merged. Objects a file only describes (`rdf:about="#_…"`) that no file of the',
    'import defines are reported once, `CIM-MODEL-PARTIAL` (an SSH sent without its EQ says so), and nothing is read from',
    'them; so are files whose headers all declare only profiles that add to other files’ objects (steady-state',
    'hypothesis, state variables), whatever their identifiers look like, and files that define nothing: no profile in a',
    'header, no `rdf:ID`, no object with an `IdentifiedObject` property (name, mRID) or of a class that has none (`Name`,',
    '`NameType`, `PositionPoint`); a CGMES 3 SSH written with `rdf:about="urn:uuid:…"` and no header is such a file, and',
    'its objects count as defined once a file of the import that defines something describes them too. Dangling',
    'references are reported.',
    '',
    '**Identifiers.** An mRID is stored normalised: lower case, without a leading `_`, `urn:uuid:` or `#`',
    '(`normaliseId` in `cim/mrid.ts`, the one normaliser); the file’s own spelling stays on the parsed objects. Importing',
    'the same model in another spelling (CGMES `rdf:ID="_UPPER"` or CIMHub `rdf:about="urn:uuid:lower"`) so changes nothing.',
    '',
    '**Names.** `Name` objects (IEC 61970-301 `Name.IdentifiedObject` / `Name.NameType`, or the ENTSO-E object registry’s',
    '`nc:Name.UniqueIdentifiedObject` / `nc:Name.NameType`) whose NameType’s name (`NameType.name` or',
    '`IdentifiedObject.name`, compared without case, spaces, `_` or `-`) is one of these become identifiers of the register;',
    'names of other types are not taken:',
    '',
    '| On | Becomes | NameType names |',
    '|---|---|---|',
    ...byTarget('asset'),
    ...byTarget('organisation'),
    '',
    'MPAN names (on the equipment, its usage points or its `Asset`, the device) match equipment to assets, and a bulk-load',
    'registers them as the asset’s import or export MPAN (its `mpan` aliases). On a matched asset an enrich adds the',
    'DSO’s own asset number (`ecr`, kept in the asset’s DNO register) unless another live asset of that register holds it',
    '(`CIM-ALIAS-CONFLICT`); a bulk-load keeps `ecr`, `evse`, `mcs` and `fsp_ref` names as aliases.',
    '',
    '**Organisations.** Every `Organisation` is reported with its role objects (whatever points at it through',
    '`OrganisationRole.Organisation`: `AssetOwner`, an `OrganisationRole` by its name, an operator role class) and its',
    'identifiers (EIC and Companies House Names, `eu:IdentifiedObject.energyIdentCodeEic`). An enrich matches each to a',
    'registered organisation by EIC or Companies House number (the registration number of a LTD, PLC or LLP counts):',
    '`organisations.items[]` says `matched` (with `matchedBy`), `unmatched` or `ambiguous` (a finding',
    '`CIM-ORGANISATION-NOT-FOUND` each); identifiers failing their check digits are listed as `invalid` and never offered.',
    'The identifiers a matched organisation lacks (`add`) are written through the organisation’s own versioned update',
    '(history, audit `organisation.updated`, event `fmar.organisation.updated`) when the importer may update it (the',
    'operator any organisation, another its own): `enriched`; `would-enrich` in a dry run; otherwise `offered` (the',
    'operator’s enrich of the same file applies it); `unchanged` when nothing is missing. A bulk-load reports the same',
    'list and offers the identifiers without writing them.',
    '',
    '**Counts.** `classes` counts the merged model’s objects per class; `used` counts, per class, the objects something was',
    'taken from. A class is in `used` exactly when it was used; every other class has one finding, `CIM-CLASS-UNKNOWN`',
    '(a class the import does not read) or `CIM-CLASS-NOT-USED` (a class it reads, none of whose objects gave anything).',
    '',
    '**Connection limits.** An enrich reads, on each equipment, the `OperationalLimitSet`s on it (`OperationalLimitSet.Equipment`)',
    'or on its terminals (`OperationalLimitSet.Terminal`) that hold an `ActivePowerLimit`; sets of current or voltage limits only',
    '(a line’s ratings) are left alone. Each is a connection limit (docs/connection-limits.md): the MPAN is',
    '`fmar:OperationalLimitSet.mpan`, else the equipment’s one MPAN; each `ActivePowerLimit.value` (its magnitude, in the',
    'request’s `unit`) is the import or export limit, as its `OperationalLimitType` says (`fmar:OperationalLimitType.direction`,',
    'else its name `import` or `export`, without case); site reference, firmness, validity and scheme are the set’s `fmar:`',
    'properties (firmness `FIRM` when absent, `TIMED` when it has a schedule; `validFrom` now when absent). A TIMED limit’s',
    'profile is read from each direction’s `ScheduledLimitDependency` (`LimitDependency.OperationalLimit`) and its',
    '`ScheduledActivePowerLimitValue`s, one band per `fmar:ScheduledLimitValue.band` (or per days and times when unnumbered).',
    'The same limit on several assets’ equipment is one. A limit at an MPAN where the importing DNO/IDNO already has an ACTIVE',
    'limit from the same instant updates that limit to what the file says (`unchanged` when it says the same); otherwise it',
    'is recorded. Both go through the connection limits’ own service: its rules, the network check, history, audit and',
    'events. The report’s `limits` lists each (`recorded`, `updated`, `unchanged`, `would-record` / `would-update` in a dry',
    'run, or `rejected` with the rule code: `CIM-LIMIT-UNREADABLE`, `CIM-LIMIT-CONFLICT`, a `CONNECTION-LIMIT-*` rule, or',
    '`AUTH-SCOPE-MISSING` for a caller that may not record limits); the others are written. A bulk-load does not read limits.',
    '',
    `Powers are read in the unit of the request’s \`unit\` parameter (${o.units.join(', ')}; default W). \`mode=enrich\` records, on`,
    'assets matched by MPAN, the DSO’s equipment mRID as a `cim_mrid` alias and these network references:',
    '',
    '| Reference | Read from |',
    '|---|---|',
    ...o.networkReferences.map((r) => `| ${r.ref} | ${cell(r.path)} |`),
    '',
    '`mode=bulk-load` registers the equipment as new assets through the same validation as the API (atomic, `dryRun=true`',
    'validates only); the source mRID is kept as a `cim_mrid` alias (normalised), never re-minted.',
    '',
    'An enrich that changes an asset (new or different references from this DSO, or a new `cim_mrid` or `ecr` alias) versions',
    "it like any other change, in the import's one transaction: the prior version is kept in the asset's history, the version",
    'goes up, an audit record `asset.cim-enriched` (naming the changed fields) and an event `fmar.asset.network-enriched` (to the',
    "asset's FSP, owner and DNO, as every asset event) are written. The report lists each matched asset in `assets[]` with its",
    '`outcome` (`enriched`, `would-enrich` in a dry run, `unchanged`) and `changes`, each changed field `from` → `to`',
    '(`equipmentMrid`, `connectivityNode`, `substation`, `feeder`, `aliases`); `wouldEnrich` counts them in a dry run. An',
    'import that changes nothing on an asset leaves it as it was and counts it as `unchanged`. `issues`, `assets` and',
    '`organisations.items` list at most 500 entries each; `issueCounts` and the counts cover all of them.',
    '',
  ];
}
