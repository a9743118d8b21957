"""Notifications: SMS to households and couriers, email or SMS to donors and staff, as jobs.

* :mod:`~nuanxin.notifications.sms`: the SMS port and its adapters (Alibaba Cloud, Tencent
  Cloud), each over its provider's SDK; :mod:`~nuanxin.notifications.mail`: SMTP.
"""
