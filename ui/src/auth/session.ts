/**
 * The signed-in session: token, whether it is the admin token, who it acts as and in which domain.
 * Kept in localStorage; a tiny external store so React and non-React code read the same value.
 */

export interface Session {
  token: string;
  isAdmin: boolean;
  /** Admin: the domain sent as X-Hydra-Domain. Domain token: the domain the server reported. */
  domain: string | null;
  /** As the server names the caller in the audit log: `admin` or `token:<name>`. */
  actor: string | null;
  /** The token's role in its domain (`/me`); null until known. The admin's is `owner`. */
  role?: Role | null;
}

export type Role = "viewer" | "operator" | "editor" | "owner";
const ROLE_NAMES: readonly string[] = ["viewer", "operator", "editor", "owner"];

export type SessionListener = () => void;

const STORAGE_KEY = "hydra.session";
export const DOMAIN_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const DEFAULT_DOMAIN = "default";
export const EXPIRED_REASON =
  "You were signed out: the server no longer accepts this token (it is invalid or was revoked). Sign in with a valid token.";

function parse(text: string | null): Session | null {
  if (!text) return null;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null) return null;
    const v = value as Record<string, unknown>;
    if (typeof v.token !== "string" || !v.token) return null;
    return {
      token: v.token,
      isAdmin: v.isAdmin === true,
      domain: typeof v.domain === "string" ? v.domain : null,
      actor: typeof v.actor === "string" ? v.actor : null,
      ...(typeof v.role === "string" && ROLE_NAMES.includes(v.role) ? { role: v.role as Role } : {}),
    };
  } catch {
    return null;
  }
}

export class SessionStore {
  private session: Session | null;
  private expiredReason: string | null = null;
  private readonly listeners = new Set<SessionListener>();

  constructor(private readonly storage: Storage | null) {
    this.session = parse(storage?.getItem(STORAGE_KEY) ?? null);
  }

  get = (): Session | null => this.session;

  /** Why the last session ended on its own (token rejected), for the sign-in page. */
  get reason(): string | null {
    return this.expiredReason;
  }

  subscribe = (listener: SessionListener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  signIn(session: Session): void {
    this.expiredReason = null;
    this.set(session);
  }

  signOut(): void {
    this.expiredReason = null;
    this.set(null);
  }

  /**
   * The server rejected `token` (401): back to the sign-in page with a reason. A late answer to a
   * call made with an earlier token must not end the session signed in since.
   */
  expire(token: string): void {
    if (!this.session || this.session.token !== token) return;
    this.expiredReason = EXPIRED_REASON;
    this.set(null);
  }

  setDomain(domain: string): void {
    if (!this.session || this.session.domain === domain) return;
    this.set({ ...this.session, domain });
  }

  /**
   * Align the session with what `/me` says of `token` (a stored session may predate a change).
   * The admin's domain stays its own choice; a domain token's domain is the server's.
   */
  confirm(token: string, me: { is_admin: boolean; actor: string; domain: string; role?: Role }): void {
    const s = this.session;
    if (!s || s.token !== token) return;
    const domain = me.is_admin ? (s.domain ?? me.domain) : me.domain;
    const same = s.isAdmin === me.is_admin && s.actor === me.actor && s.domain === domain;
    if (same && (me.role === undefined || s.role === me.role)) return;
    this.set({ ...s, isAdmin: me.is_admin, actor: me.actor, domain, ...(me.role ? { role: me.role } : {}) });
  }

  private set(session: Session | null): void {
    this.session = session;
    try {
      if (session) this.storage?.setItem(STORAGE_KEY, JSON.stringify(session));
      else this.storage?.removeItem(STORAGE_KEY);
    } catch {
      // Storage full or disabled: the session still lives for this tab.
    }
    for (const listener of this.listeners) listener();
  }
}

function browserStorage(): Storage | null {
  try {
    return typeof window !== "undefined" ? window.localStorage : null;
  } catch {
    return null;
  }
}

export const sessionStore = new SessionStore(browserStorage());

/**
 * Headers every API call and the event stream send for `session`. Only the admin names a domain:
 * a domain token is bound to its own, and naming any other gets 404.
 */
export function authHeaders(session: Session | null): Record<string, string> {
  if (!session) return {};
  const headers: Record<string, string> = { Authorization: `Bearer ${session.token}` };
  if (session.isAdmin && session.domain) headers["X-Hydra-Domain"] = session.domain;
  return headers;
}
