/** An owner token's page: the tokens of its own domain (the admin has them on the domains page). */
import { useSession } from "../auth/useSession";
import { PageTitle } from "../common/PageTitle";
import { TokensPanel } from "./TokensDrawer";

export function TokensPage() {
  const session = useSession();
  const domain = session?.domain;
  return (
    <div data-testid="tokens-page">
      <PageTitle title={`Tokens of ${domain ?? "…"}`} />
      {domain && <TokensPanel domain={domain} />}
    </div>
  );
}
