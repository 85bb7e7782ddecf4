"""FastAPI dependencies as `Annotated` aliases: `SessionDep`, `ResourcesDep`, `SettingsDep`.

Every one is `async def`: FastAPI runs a plain `def` dependency in a worker thread, a cost
per request these look-ups do not need.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from swingflow_gateway.resources import Resources
from swingflow_gateway.settings import Settings


async def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_settings(resources: ResourcesDep) -> Settings:
    return resources.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_session(resources: ResourcesDep) -> AsyncIterator[AsyncSession]:
    async with resources.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
