/**
 * A login link may carry the token (`…/#token=…` or `?token=…`). Take it out of the address bar
 * at once (it must not stay in history or be shared by copy-paste) and hand it to the sign-in.
 */
export function takeTokenFromUrl(location: Location = window.location, history: History = window.history): string | null {
  const hash = new URLSearchParams(location.hash.replace(/^#/, ""));
  const query = new URLSearchParams(location.search);
  const token = hash.get("token") ?? query.get("token");
  if (!token) return null;
  hash.delete("token");
  query.delete("token");
  const search = query.toString();
  const rest = hash.toString();
  history.replaceState(history.state, "", `${location.pathname}${search ? `?${search}` : ""}${rest ? `#${rest}` : ""}`);
  return token.trim() || null;
}
