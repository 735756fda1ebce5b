/**
 * The OAuth scopes the OpenADR 3.1.0 document declares (components.securitySchemes.
 * oAuth2ClientCredentials.flows.clientCredentials.scopes), with its descriptions, and the scope
 * each operation the register serves names in its security requirement. The document's security
 * requirements are alternatives: oAuth2ClientCredentials with the scope, or bearerAuth with none;
 * a token with none of these scopes is the bearer alternative (the hub's own scopes then apply).
 */
export const OADR_SCOPES = {
  read_all: 'BL can read all resources',
  read_targets: 'VENs may only read objects with targets by providing matching targets',
  read_ven_objects: 'VENs may only read objects whose clientID matches their own',
  write_programs: 'Only BL can write to programs',
  write_events: 'Only BL can write to events',
  write_reports: 'only VENs can write to reports',
  write_subscriptions: 'VENs and BL can write to subscriptions',
  write_vens: 'VENS and BL can write to vens and resources',
} as const;
export type OadrScope = keyof typeof OADR_SCOPES;
export const OADR_SCOPE_NAMES = Object.keys(OADR_SCOPES) as OadrScope[];

export const isOadrScope = (s: string): s is OadrScope => Object.hasOwn(OADR_SCOPES, s);
