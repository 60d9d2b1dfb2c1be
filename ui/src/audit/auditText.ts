/** How audit entries read: the actor's colour and meaning, details as plain JSON text. */

export interface ActorLook {
  color: string;
  hint: string;
}

/** `admin` or `token:<name>` (the server's two kinds of caller). */
export function actorLook(actor: string): ActorLook {
  if (actor === "admin") return { color: "gold", hint: "The admin token" };
  if (actor.startsWith("token:")) return { color: "blue", hint: `The domain token named “${actor.slice("token:".length)}”` };
  return { color: "default", hint: actor };
}

/** The details object as indented JSON: shown in a <pre> as text, never as HTML. */
export function detailsText(details: Record<string, unknown> | undefined): string {
  if (!details || Object.keys(details).length === 0) return "";
  return JSON.stringify(details, null, 2);
}
