"""The SMS port and its two adapters: Alibaba Cloud SMS (阿里云短信) and Tencent Cloud SMS.

A provider in China sends only templates it approved beforehand, under an approved
signature (签名): the platform names a template by kind and language (``visit_code.zh``),
``SMS_TEMPLATES`` maps that name to the provider's template id, and the message carries the
template's parameters only. Both adapters talk to their provider through its official SDK;
``SMS_ENDPOINT`` (host and port) and ``SMS_PROTOCOL`` point them elsewhere (a regional
endpoint, a proxy, or a fake on loopback in the tests).

An adapter answers with the provider's message id, or raises
:class:`~nuanxin.notifications.refusal.ProviderError`: ``retry``
says whether trying later may work (throttling, the provider's own errors, the network) or
not (a bad number, a template the provider does not know, bad keys).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from nuanxin.notifications.refusal import ProviderError
from nuanxin.settings import Settings

__all__ = ("AliyunSms", "Sms", "SmsPort", "TencentSms", "sms_port")

TIMEOUT_SECONDS = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class Sms:
    """One text to one mainland mobile number: a template and its parameters, in order."""

    phone: str  # 11 digits, 1[3-9]…
    template: str  # the platform's name: "visit_code.zh"
    params: tuple[tuple[str, str], ...]


class SmsPort(Protocol):
    """Sends one :class:`Sms`; answers the provider's id for it."""

    name: str

    async def send(self, sms: Sms) -> str: ...


def _template_ids(settings: Settings) -> dict[str, str]:
    return dict(settings.sms_templates)


def _template_id(templates: dict[str, str], sms: Sms) -> str:
    found = templates.get(sms.template)
    if not found:
        raise ProviderError(f"no template configured for {sms.template}", retry=False)
    return found


class AliyunSms:
    """Alibaba Cloud SMS (Dysmsapi 2017-05-25, ``SendSms``), through its async SDK client."""

    name = "aliyun"
    ENDPOINT = "dysmsapi.aliyuncs.com"
    # Codes worth another try later: throttled, or the provider's own trouble.
    TRANSIENT = frozenset({"isv.BUSINESS_LIMIT_CONTROL", "isp.SYSTEM_ERROR", "Throttling.User"})

    def __init__(self, settings: Settings) -> None:
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi.utils_models import Config

        self._client = Client(
            Config(
                access_key_id=settings.sms_access_key_id,
                access_key_secret=settings.sms_access_key_secret,
                endpoint=settings.sms_endpoint or self.ENDPOINT,
                protocol=settings.sms_protocol,
                region_id=settings.sms_region or "cn-hangzhou",
                connect_timeout=TIMEOUT_SECONDS * 1000,
                read_timeout=TIMEOUT_SECONDS * 1000,
            )
        )
        self._sign_name = settings.sms_sign_name
        self._templates = _template_ids(settings)

    async def send(self, sms: Sms) -> str:
        from alibabacloud_dysmsapi20170525.models import SendSmsRequest

        request = SendSmsRequest(
            phone_numbers=sms.phone,
            sign_name=self._sign_name,
            template_code=_template_id(self._templates, sms),
            template_param=json.dumps(dict(sms.params), ensure_ascii=False),
        )
        try:
            response = await self._client.send_sms_async(request)
        except Exception as exc:  # an edge: the SDK raises its own classes and aiohttp's
            status = int(getattr(exc, "status_code", None) or 0)
            if status:  # an HTTP error answer: 4xx is ours to fix, 5xx theirs
                code = str(getattr(exc, "code", "") or status)
                raise ProviderError(f"aliyun {code}", retry=not 400 <= status < 500) from None
            raise ProviderError(f"aliyun unreachable: {type(exc).__name__}", retry=True) from None
        body = response.body
        code = str(getattr(body, "code", "") or "")
        if code != "OK":
            raise ProviderError(f"aliyun {code or 'no answer'}", retry=code in self.TRANSIENT)
        return str(body.biz_id or "")


class TencentSms:
    """Tencent Cloud SMS (API 2021-01-11, ``SendSms``), its SDK run in a worker thread."""

    name = "tencent"
    ENDPOINT = "sms.tencentcloudapi.com"
    TRANSIENT_PREFIXES = ("LimitExceeded", "InternalError", "RequestLimitExceeded")
    NETWORK = ("ClientNetworkError", "ServerNetworkError")

    def __init__(self, settings: Settings) -> None:
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        profile = HttpProfile(
            endpoint=settings.sms_endpoint or self.ENDPOINT,
            protocol=settings.sms_protocol,
            reqTimeout=TIMEOUT_SECONDS,
        )
        # The SDK's debug lines print the whole request, number and code: never below INFO.
        logging.getLogger("tencentcloud_sdk_common").setLevel(logging.INFO)
        self._client = sms_client.SmsClient(
            credential.Credential(settings.sms_access_key_id, settings.sms_access_key_secret),
            settings.sms_region or "ap-guangzhou",
            ClientProfile(httpProfile=profile),
        )
        self._app_id = settings.sms_app_id
        self._sign_name = settings.sms_sign_name
        self._templates = _template_ids(settings)

    def _transient(self, code: str) -> bool:
        return code.startswith(self.TRANSIENT_PREFIXES) or code in self.NETWORK

    def _send_now(self, phone: str, template_id: str, values: Sequence[str]) -> str:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
            TencentCloudSDKException,
        )
        from tencentcloud.sms.v20210111 import models

        request = models.SendSmsRequest()
        request.PhoneNumberSet = ["+86" + phone]
        request.SmsSdkAppId = self._app_id
        request.SignName = self._sign_name
        request.TemplateId = template_id
        request.TemplateParamSet = list(values)
        try:
            response = self._client.SendSms(request)
        except TencentCloudSDKException as exc:
            code = str(exc.get_code() or "error")
            raise ProviderError(f"tencent {code}", retry=self._transient(code)) from None
        statuses = response.SendStatusSet or []
        if not statuses:
            raise ProviderError("tencent no status", retry=True)
        status = statuses[0]
        code = str(status.Code or "")
        if code != "Ok":
            raise ProviderError(f"tencent {code}", retry=self._transient(code))
        return str(status.SerialNo or "")

    async def send(self, sms: Sms) -> str:
        template_id = _template_id(self._templates, sms)
        values = [value for _, value in sms.params]
        return await asyncio.to_thread(self._send_now, sms.phone, template_id, values)


def sms_port(settings: Settings) -> SmsPort | None:
    """The adapter ``SMS_PROVIDER`` names, or None when no provider is configured."""
    if settings.sms_provider == "aliyun":
        return AliyunSms(settings)
    if settings.sms_provider == "tencent":
        return TencentSms(settings)
    return None
