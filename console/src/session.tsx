import { createContext, useContext, useEffect, useState } from 'react';
import type { AuthProvider } from 'react-admin';
import type { Organisation } from '../../src/organisations/schema';
import { api } from './api';
import { person, signIn, signOut, type Person } from './auth';

/** The signed-in person and their organisation: what the screens show follows its roles and the person's scopes. */
export interface Session extends Person {
  organisation?: Pick<Organisation, 'id' | 'legalName' | 'roles'>;
  can(scope: string): boolean;
}

export function session(org?: Session['organisation']): Session | undefined {
  const p = person();
  if (!p) return undefined;
  return { ...p, organisation: org, can: (scope) => p.scopes.includes(scope) };
}

export const SessionContext = createContext<Session | undefined>(undefined);
export const useSession = () => useContext(SessionContext);

/** Read the person's organisation once signed in (its name and roles). */
export function useOrganisation(id: string | undefined) {
  const [org, setOrg] = useState<Session['organisation']>();
  useEffect(() => {
    if (!id) return;
    api<Organisation>(`/organisations/${encodeURIComponent(id)}`).then(
      (o) => setOrg({ id: o.id, legalName: o.legalName, roles: o.roles }),
      () => setOrg(undefined),
    );
  }, [id]);
  return org;
}

/** React-Admin's auth: tokens come from auth.ts; an expired session signs in again through the provider. */
export const authProvider: AuthProvider = {
  login: () => signIn(),
  logout: async () => {
    if (person()) await signOut();
    return false;
  },
  checkAuth: () => (person() ? Promise.resolve() : Promise.reject(new Error('Signed out'))),
  checkError: (error: { status?: number }) => (error?.status === 401 ? Promise.reject(new Error('Signed out')) : Promise.resolve()),
  getIdentity: () => {
    const p = person();
    if (!p) return Promise.reject(new Error('Signed out'));
    return Promise.resolve({ id: p.sub, fullName: p.name ?? p.email ?? p.sub });
  },
  getPermissions: () => Promise.resolve(person()?.scopes ?? []),
};
