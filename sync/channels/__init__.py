"""Channels that deliver reminders: the outbox folder, SMTP, letters (PDF); calls become tasks."""
