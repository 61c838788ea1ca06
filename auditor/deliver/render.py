"""The message in each receiver's documented shape.

- Slack incoming webhook: `text` (the fallback notifications show) and Block Kit `blocks`
  (header, section, context); account text is escaped (`&`, `<`, `>`), so a resource name
  cannot become a link or an @-mention.
- Teams workflow webhook ("When a Teams webhook request is received"): a `message` with one
  Adaptive Card attachment (`type`, `version`, `body`, and an `Action.OpenUrl` to the report).
- Generic webhook: the summary and the new and resolved findings as JSON.
"""

from __future__ import annotations

from typing import Any

from auditor.deliver.message import Item, Message, when
from auditor.report.document import iso

SLACK_SECTION_MAX = 3000
SUBJECT_MAX = 100
"""SNS subjects and a sensible email subject: one short line."""


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_items(title: str, items: tuple[Item, ...], total: int) -> dict[str, Any]:
    lines = [f"*{title} ({total if len(items) == total else f'top {len(items)} of {total}'})*"]
    for item in items:
        saving = f" · ${item.saving:,.2f}/mo" if item.saving else ""
        lines.append(_slack_escape(f"• {item.severity.value} `{item.check_id}` "
                                   f"`{item.resource}`{saving}"))
    text = "\n".join(lines)
    if len(text) > SLACK_SECTION_MAX:
        text = text[:SLACK_SECTION_MAX - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def slack(message: Message) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.headline[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(
            f"*{message.counts_line}*\n{message.money_line.capitalize()}")}},
    ]
    for title, items, total in (("New", message.top_new, len(message.new)),
                                ("Resolved", message.top_resolved, len(message.resolved))):
        if items:
            blocks.append(_slack_items(title, items, total))
    context = [f"Accounts: {', '.join(message.accounts) or '—'}",
               f"generated {when(message.generated_at)}"]
    if message.link:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "The HTML report"},
                       "accessory": {"type": "button", "url": message.link.url,
                                     "text": {"type": "plain_text", "text": "Open report"}}})
        if message.link.expires_at:
            context.append(f"link expires {when(message.link.expires_at)}")
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": _slack_escape(part)} for part in context]})
    return {"text": _slack_escape(message.text()), "blocks": blocks}


def _card_items(title: str, items: tuple[Item, ...], total: int) -> list[dict[str, Any]]:
    if not items:
        return []
    heading = f"{title} ({total if len(items) == total else f'top {len(items)} of {total}'})"
    return [{"type": "TextBlock", "text": heading, "weight": "Bolder", "wrap": True},
            {"type": "TextBlock", "wrap": True, "text": "\n".join(
                f"- {item.line()}" for item in items)}]


def teams(message: Message) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": message.headline, "weight": "Bolder", "size": "Medium",
         "wrap": True},
        {"type": "FactSet", "facts": [{"title": s.capitalize(), "value": str(n)}
                                      for s, n in message.counts.items()]},
        {"type": "TextBlock", "text": message.money_line.capitalize(), "wrap": True},
        *_card_items("New", message.top_new, len(message.new)),
        *_card_items("Resolved", message.top_resolved, len(message.resolved)),
        {"type": "TextBlock", "isSubtle": True, "wrap": True, "text":
         f"Accounts: {', '.join(message.accounts) or '—'} · generated "
         f"{when(message.generated_at)}"
         + (f" · link expires {when(message.link.expires_at)}"
            if message.link and message.link.expires_at else "")},
    ]
    card: dict[str, Any] = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                            "type": "AdaptiveCard", "version": "1.4", "body": body}
    if message.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open report",
                            "url": message.link.url}]
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
         "content": card}]}


def _item(item: Item) -> dict[str, Any]:
    return {"fingerprint": item.fingerprint, "check_id": item.check_id, "title": item.title,
            "severity": item.severity.value, "resource_arn": item.resource_arn,
            "account": item.account, "region": item.region,
            "monthly_savings_usd": item.saving}


def webhook(message: Message) -> dict[str, Any]:
    """Every new and resolved finding (not only the top 10): a machine reads this."""
    link = message.link
    return {
        "tool": "compute-auditor",
        "generated_at": iso(message.generated_at),
        "baseline_generated_at": iso(message.baseline_at) if message.baseline_at else None,
        "accounts": list(message.accounts),
        "demo": message.demo,
        "summary": {"findings_by_severity": dict(message.counts), "new": len(message.new),
                    "resolved": len(message.resolved),
                    "total_current_monthly_usd": message.spend_usd,
                    "total_monthly_savings_usd": message.savings_usd,
                    "current_monthly_usd_change": message.spend_change_usd,
                    "monthly_savings_usd_change": message.savings_change_usd},
        "report_url": link.url if link else None,
        "report_url_expires_at": iso(link.expires_at) if link and link.expires_at else None,
        "new": [_item(item) for item in message.new],
        "resolved": [_item(item) for item in message.resolved],
    }


def subject(message: Message) -> str:
    return message.headline[:SUBJECT_MAX]
