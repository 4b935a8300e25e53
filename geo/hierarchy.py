"""Names and children of the units of the hierarchy (district → sub-districts → communities → grids)."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from geo.errors import ScopeError
from geo.scope import Scope
from geo.vocab import DISTRICT_NAME, Level


@dataclass(frozen=True)
class Hierarchy:
    """Code → name of every unit, and each unit's children in code order."""

    names: dict[str, str]
    children_of: dict[str, tuple[str, ...]]

    @classmethod
    def from_frames(cls, streets: pd.DataFrame, communities: pd.DataFrame, grids: pd.DataFrame) -> Hierarchy:
        """Built from the store's unit tables (any order; only code, name and parent codes are read)."""
        names = {"": DISTRICT_NAME}
        children: dict[str, list[str]] = {"": []}
        for frame, parent in ((streets, None), (communities, "street_code"), (grids, "community_code")):
            for row in frame.sort_values("code").itertuples(index=False):
                names[row.code] = row.name
                children.setdefault(row.code, [])
                children.setdefault("" if parent is None else getattr(row, parent), []).append(row.code)
        return cls(names, {k: tuple(v) for k, v in children.items()})

    def name(self, scope: Scope) -> str:
        return self.names.get(scope.code, scope.code)

    def exists(self, scope: Scope) -> bool:
        return scope.code in self.names

    def check(self, scope: Scope) -> Scope:
        """``scope`` itself, or ScopeError in Chinese when no such unit exists."""
        if not self.exists(scope):
            raise ScopeError(f"找不到代码为 {scope.code} 的{scope.level.label}，已回到全区视图")
        return scope

    def children(self, scope: Scope) -> list[Scope]:
        """The units directly below ``scope`` (none below a grid)."""
        return [Scope(c) for c in self.children_of.get(scope.code, ())]

    def trail(self, scope: Scope) -> list[tuple[Scope, str]]:
        """(scope, name) from the district down to ``scope``: the breadcrumb."""
        return [(s, self.name(s)) for s in scope.chain()]

    def full_name(self, scope: Scope) -> str:
        """E.g. "鼓楼区 东街街道 军门社区"."""
        return " ".join(name for _, name in self.trail(scope))


def child_key(scope: Scope) -> str | None:
    """The column of the child units' code in grid-level records (None below a grid)."""
    return {Level.DISTRICT: "street_code", Level.STREET: "community_code",
            Level.COMMUNITY: "grid_code"}.get(scope.level)
