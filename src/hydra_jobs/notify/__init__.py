"""Alerts and notifications: rules that turn run outcomes and schedule facts into alerts, a
durable outbox in the store, the channel senders (webhook, Slack, email) and the leader's
delivery loop. See docs/architecture.md (Notifications) and N1-N7 in docs/reliability.md.
"""
