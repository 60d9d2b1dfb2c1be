import { KeyOutlined } from "@ant-design/icons";
import { Alert, Button, Card, Form, Input, Typography } from "antd";
import { useEffect, useState } from "react";
import { errorText } from "../api/errors";
import { sessionStore } from "./session";
import { checkToken } from "./signIn";

export function SignInPage({ linkToken }: { linkToken?: string | null }) {
  const [error, setError] = useState<string | null>(sessionStore.reason);
  const [busy, setBusy] = useState(false);

  const submit = async ({ token }: { token: string }) => {
    setBusy(true);
    setError(null);
    try {
      sessionStore.signIn(await checkToken(token.trim()));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  // Opened from a login link: sign in with its token straight away.
  useEffect(() => {
    if (linkToken) void submit({ token: linkToken });
  }, [linkToken]);

  return (
    <div className="signin-page">
      <header className="signin-header" data-testid="signin-header">
        <img src="/favicon.svg" alt="" width={26} height={26} />
        <span>Hydra Jobs</span>
      </header>
      <main className="signin-main">
        <Card className="signin-card" data-testid="signin">
          <Typography.Title level={3} style={{ marginTop: 0 }}>
            Sign in
          </Typography.Title>
          <Typography.Paragraph type="secondary">Use an API token.</Typography.Paragraph>
          {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} data-testid="signin-error" />}
          <Form layout="vertical" onFinish={submit} requiredMark={false}>
            <Form.Item
              name="token"
              label="Token"
              rules={[{ required: true, whitespace: true, message: "Paste the admin token or a domain token" }]}
              extra="The admin token (printed by `hydra-jobs up`, kept in its data directory as admin_token) acts in every domain; a domain token (hjt_…, made by an admin) sees its own domain only."
            >
              <Input.Password prefix={<KeyOutlined />} placeholder="Paste a token" autoFocus autoComplete="off" data-testid="token-input" />
            </Form.Item>
            <Button type="primary" htmlType="submit" block loading={busy} data-testid="signin-submit">
              Sign in
            </Button>
          </Form>
        </Card>
      </main>
    </div>
  );
}
