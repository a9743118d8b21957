"""Prepare a database for a fault scenario (run as ``python -m tests.faults.seed``).

Reads ``DATABASE_URL`` from the environment, migrates it, loads the gazetteer, generates a
province's households and offers with the seeded generator, and creates a staff account of
the province and a courier of the first charity with known bearer tokens. Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta

PROVINCE = "230000"
STAFF_TOKEN = "fault-staff-token"
COURIER_TOKEN = "fault-courier-token"


async def seed(households: int, offers: int) -> dict[str, object]:
    from nuanxin.accounts.tables import ApiToken, Organization, User
    from nuanxin.cli import migrate
    from nuanxin.identity import Role, digest
    from nuanxin.regions.services import get_region, load_regions
    from nuanxin.synthetic import generate
    from nuanxin.synthetic.load import load_dataset

    await migrate(quiet=True)
    await load_regions()
    dataset = generate(households=households, offers=offers, seed=11, provinces=(PROVINCE,))
    await load_dataset(dataset)
    province = await get_region(PROVINCE)
    assert province is not None
    charity = await Organization.select(Organization.id).order_by(Organization.id).first().run()
    assert charity is not None
    now = datetime.now(UTC)
    accounts = {
        STAFF_TOKEN: User(
            username="fault_staff",
            display_name="staff",
            password_hash="x",
            role=Role.staff.value,
            jurisdiction=province.id,
            created_at=now,
        ),
        COURIER_TOKEN: User(
            username="fault_courier",
            display_name="courier",
            password_hash="x",
            role=Role.courier.value,
            organization=charity["id"],
            created_at=now,
        ),
    }
    for token, user in accounts.items():
        rows = await User.insert(user).returning(User.id).run()
        await ApiToken.insert(
            ApiToken(
                user=rows[0]["id"],
                token_hash=digest(token),
                created_at=now,
                expires_at=now + timedelta(days=1),
            )
        ).run()
    return {"staff_token": STAFF_TOKEN, "courier_token": COURIER_TOKEN}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=3000)
    parser.add_argument("--offers", type=int, default=150)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(seed(args.households, args.offers))))  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
