/**
 * Readers for the domains admin API. Its responses are not in the published schema yet (the
 * routes answer 501), so they are read defensively: whatever arrives is shown as text, never HTML.
 * When the schema lands, regenerate src/api/schema.d.ts and type these from it.
 */

export interface DomainRow {
  name: string;
  description: string | null;
  tokens: TokenRow[];
}

export interface TokenRow {
  id: string;
  name: string | null;
  createdAt: string | null;
}

export interface CreatedToken {
  id: string | null;
  token: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

function readToken(value: unknown): TokenRow | null {
  if (!isRecord(value)) return null;
  const id = str(value.id);
  if (!id) return null;
  return { id, name: str(value.name) ?? str(value.description), createdAt: str(value.created_at) };
}

export function readDomains(data: unknown): DomainRow[] {
  const items = isRecord(data) && Array.isArray(data.items) ? data.items : Array.isArray(data) ? data : [];
  const rows: DomainRow[] = [];
  for (const item of items as unknown[]) {
    const name = typeof item === "string" ? item : isRecord(item) ? str(item.name) : null;
    if (!name) continue;
    const tokens = isRecord(item) && Array.isArray(item.tokens) ? item.tokens.map(readToken) : [];
    rows.push({
      name,
      description: isRecord(item) ? str(item.description) : null,
      tokens: tokens.filter((t): t is TokenRow => t !== null),
    });
  }
  return rows;
}

export function readCreatedToken(data: unknown): CreatedToken | null {
  if (!isRecord(data)) return null;
  const token = str(data.token) ?? str(data.secret);
  if (!token) return null;
  return { id: str(data.id) ?? str(data.token_id), token };
}
