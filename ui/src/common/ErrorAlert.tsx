import { Alert } from "antd";
import { ApiError, errorText } from "../api/errors";

/** An error in words. A 501 reads as "not available yet", not as a failure. */
export function ErrorAlert({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const notAvailable = error instanceof ApiError && error.notAvailable;
  return (
    <Alert
      type={notAvailable ? "info" : "error"}
      showIcon
      message={notAvailable ? "Not available yet" : (title ?? "Something went wrong")}
      description={errorText(error)}
      data-testid={notAvailable ? "not-available" : "error-alert"}
    />
  );
}
