import { Alert } from "antd";
import { errorText } from "../api/errors";

/** An error in words, with the server's detail (e.g. which variables enable the AI providers). */
export function ErrorAlert({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  return <Alert type="error" showIcon message={title ?? "Something went wrong"} description={errorText(error)} data-testid="error-alert" />;
}
