"""The JSON API of the warehouses area (the routes as they were under the accounts area).

A charity's list of warehouses and adding one live under ``/api/organizations/{id}``; one
warehouse under ``/api/warehouses/{id}``. Guards admit roles; the services check the record.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from nuanxin.guards import require_roles
from nuanxin.identity import CurrentUser, Role
from nuanxin.pagination import Page, Pagination, provide_pagination
from nuanxin.responses import error_responses
from nuanxin.warehouses import services
from nuanxin.warehouses.schemas import Warehouse, WarehouseCreate, WarehouseUpdate

__all__ = ("OrganizationWarehouseController", "WarehouseController")

members_and_admin = require_roles(Role.charity, Role.admin)
PAGINATED: dict[str, Provide] = {"page": Provide(provide_pagination)}

RegionFilter = Annotated[str | None, QueryParameter(description="a region and everything under it")]


class OrganizationWarehouseController(Controller):
    """A charity's warehouses: its list, and adding one."""

    path = "/api/organizations"
    tags = ("charities",)
    dependencies = PAGINATED

    @get(
        "/{organization_id:int}/warehouses",
        operation_id="ListWarehouses",
        responses=error_responses(400, 401, 404),
        summary="The charity's warehouses",
    )
    async def list_warehouses(
        self,
        actor: NamedDependency[CurrentUser],
        organization_id: FromPath[int],
        page: NamedDependency[Pagination],
        region_code: RegionFilter = None,
    ) -> Page[Warehouse]:
        return await services.list_warehouses(
            user=actor, organization_id=organization_id, page=page, region_code=region_code
        )

    @post(
        "/{organization_id:int}/warehouses",
        operation_id="CreateWarehouse",
        guards=[members_and_admin],
        responses=error_responses(400, 401, 403, 404, 409),
        summary="Add a warehouse in a county or township (at its point, or the region's)",
    )
    async def create_warehouse(
        self,
        actor: NamedDependency[CurrentUser],
        organization_id: FromPath[int],
        data: JSONBody[WarehouseCreate],
    ) -> Warehouse:
        return await services.create_warehouse(
            user=actor, organization_id=organization_id, data=data
        )


class WarehouseController(Controller):
    path = "/api/warehouses"
    tags = ("charities",)

    @get(
        "/{warehouse_id:int}",
        operation_id="GetWarehouse",
        responses=error_responses(400, 401, 404),
        summary="One warehouse",
    )
    async def get_warehouse(
        self, actor: NamedDependency[CurrentUser], warehouse_id: FromPath[int]
    ) -> Warehouse:
        return await services.get_warehouse(user=actor, warehouse_id=warehouse_id)

    @patch(
        "/{warehouse_id:int}",
        operation_id="UpdateWarehouse",
        guards=[members_and_admin],
        responses=error_responses(400, 401, 403, 404, 409),
        summary="Rename or move a warehouse (its open offers move with it)",
    )
    async def update_warehouse(
        self,
        actor: NamedDependency[CurrentUser],
        warehouse_id: FromPath[int],
        data: JSONBody[WarehouseUpdate],
    ) -> Warehouse:
        return await services.update_warehouse(user=actor, warehouse_id=warehouse_id, data=data)

    @delete(
        "/{warehouse_id:int}",
        operation_id="DeleteWarehouse",
        guards=[members_and_admin],
        responses=error_responses(400, 401, 403, 404, 409),
        summary="Remove a warehouse no offer was ever posted from",
    )
    async def delete_warehouse(
        self, actor: NamedDependency[CurrentUser], warehouse_id: FromPath[int]
    ) -> None:
        await services.delete_warehouse(user=actor, warehouse_id=warehouse_id)
