"""The messages' words, in Chinese and English: one template per kind and language.

An SMS provider in China sends only templates it approved beforehand: register the ``sms``
texts below with the provider (Alibaba writes a parameter ``${date}``, Tencent ``{1}``, in
the order of ``PARAMS``) and map each one's id in ``SMS_TEMPLATES`` (``visit_code.zh=SMS_…``).
Emails are written from the same words here (``subject`` and ``body``).

A household's message names no one; a donor's names the county only, never the household.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from nuanxin.notifications.vocabulary import Kind, Language

__all__ = ("PARAMS", "TEMPLATES", "Rendered", "opt_out_line", "render", "sms_text")

#: Each kind's parameters, in the order Tencent's numbered templates take them.
PARAMS: Final[dict[Kind, tuple[str, ...]]] = {
    Kind.visit_code: ("date", "code", "hotline"),
    Kind.courier_day: ("date", "count", "stops"),
    Kind.donor_delivered: ("county", "item", "date"),
    Kind.staff_deadlines: ("overdue", "stale", "expiring"),
}


@dataclass(frozen=True, slots=True)
class Template:
    subject: str
    sms: str  # the text registered with the SMS provider ({name} for each parameter)
    body: str  # the email's text


TEMPLATES: Final[dict[tuple[Kind, Language], Template]] = {
    (Kind.visit_code, Language.zh): Template(
        subject="上门送物资通知",
        sms="您好，{date}将有人上门送来冬季救助物资。收到物资时请把确认码{code}告诉送货人，"
        "请勿告诉他人。如有疑问请拨打{hotline}。",
        body="您好，{date}将有人上门送来冬季救助物资。\n收到物资时请把确认码 {code} 告诉送货人，"
        "请勿告诉他人。\n如有疑问请拨打 {hotline}。",
    ),
    (Kind.visit_code, Language.en): Template(
        subject="Your winter aid is on its way",
        sms="Winter aid will be brought to your home on {date}. When it arrives, give the "
        "courier the code {code}; tell it to no one else. Questions: call {hotline}.",
        body="Winter aid will be brought to your home on {date}.\nWhen it arrives, give the "
        "courier the code {code}; tell it to no one else.\nQuestions: call {hotline}.",
    ),
    (Kind.courier_day, Language.zh): Template(
        subject="今日送货清单",
        sms="{date}您有{count}户要送：{stops}。到门口后在“送达确认”页面输入住户的确认码。",
        body="{date}您有 {count} 户要送：\n{stops}\n到门口后在“送达确认”页面输入住户的确认码。",
    ),
    (Kind.courier_day, Language.en): Template(
        subject="Today's deliveries",
        sms="{date}: {count} households to visit: {stops}. At the door, enter the household's "
        "code on the courier page.",
        body="{date}: {count} households to visit:\n{stops}\nAt the door, enter the "
        "household's code on the courier page.",
    ),
    (Kind.donor_delivered, Language.zh): Template(
        subject="您的捐赠已送达{county}",
        sms="感谢您的爱心！您捐赠的{item}已于{date}送达{county}的一户困难家庭。",
        body="感谢您的爱心！\n您捐赠的{item}已于{date}送达{county}的一户困难家庭。\n"
        "受助家庭的信息受到保护，不会公开。",
    ),
    (Kind.donor_delivered, Language.en): Template(
        subject="Your gift was delivered in {county}",
        sms="Thank you! Your gift ({item}) was delivered to a household in {county} on {date}.",
        body="Thank you!\nYour gift ({item}) was delivered to a household in difficulty in "
        "{county} on {date}.\nThe household's identity stays protected.",
    ),
    (Kind.staff_deadlines, Language.zh): Template(
        subject="辖区待办提醒",
        sms="辖区待办：先行救助补材料逾期{overdue}件，滞留个案{stale}件，"
        "核查已过期或30天内到期{expiring}户。请登录平台处理。",
        body="辖区待办：\n先行救助补材料逾期：{overdue} 件\n滞留个案：{stale} 件\n"
        "核查已过期或 30 天内到期：{expiring} 户\n请登录平台处理。",
    ),
    (Kind.staff_deadlines, Language.en): Template(
        subject="Open deadlines in your area",
        sms="Your area: {overdue} emergency paperwork overdue, {stale} stale cases, {expiring} "
        "verifications expired or expiring within 30 days. Please sign in.",
        body="Your area:\nEmergency paperwork overdue: {overdue}\nStale cases: {stale}\n"
        "Verifications expired or expiring within 30 days: {expiring}\nPlease sign in.",
    ),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendered:
    subject: str
    body: str


def _values(kind: Kind, params: dict[str, str]) -> dict[str, str]:
    return {name: str(params.get(name, "")) for name in PARAMS[kind]}


def render(kind: Kind, language: Language, params: dict[str, str]) -> Rendered:
    """The email of ``kind`` in ``language`` with its parameters filled in."""
    template = TEMPLATES[(kind, language)]
    values = _values(kind, params)
    return Rendered(subject=template.subject.format(**values), body=template.body.format(**values))


def sms_text(kind: Kind, language: Language, params: dict[str, str]) -> str:
    """The SMS as the provider writes it from its template (for length checks and docs)."""
    return TEMPLATES[(kind, language)].sms.format(**_values(kind, params))


def opt_out_line(language: Language, url: str) -> str:
    """The last line of an email to a donor: how to receive no more (``PUBLIC_URL`` set)."""
    if language is Language.zh:
        return f"如不想再收到此类邮件，请打开：{url}"
    return f"To receive no more of these emails, open: {url}"
