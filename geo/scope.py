"""The scope of a view: the whole district, one sub-district, one community or one grid.

Codes carry the hierarchy: a sub-district code is 12 digits ending in 000
(``350102004000``), a community code is 12 digits of that sub-district's first 9 plus its own 3
(``350102004001``), and a grid code is its community's code plus 3 digits (``350102004001004``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from geo.errors import GuloError, ScopeError
from geo.vocab import DISTRICT_CODE, Level

_STREET = re.compile(r"^\d{9}000$")
_COMMUNITY = re.compile(r"^\d{12}$")
_GRID = re.compile(r"^\d{15}$")


def street_of(code: str) -> str:
    """Sub-district code of a community or grid code."""
    return code[:9] + "000"


def community_of(grid_code: str) -> str:
    """Community code of a grid code."""
    return grid_code[:12]


@dataclass(frozen=True)
class Scope:
    """Where the user is looking. ``code`` is empty for the district."""

    code: str = ""

    def __post_init__(self):
        if self.code and not (_GRID.match(self.code) or _COMMUNITY.match(self.code)):
            raise ScopeError(f"无效的区划代码“{self.code}”：应为12位街道/社区代码或15位网格代码")
        if self.code == DISTRICT_CODE:
            object.__setattr__(self, "code", "")

    @property
    def level(self) -> Level:
        if not self.code:
            return Level.DISTRICT
        if _GRID.match(self.code):
            return Level.GRID
        return Level.STREET if _STREET.match(self.code) else Level.COMMUNITY

    @property
    def street(self) -> str | None:
        return street_of(self.code) if self.code else None

    @property
    def community(self) -> str | None:
        return self.code[:12] if self.level in (Level.COMMUNITY, Level.GRID) else None

    @property
    def grid(self) -> str | None:
        return self.code if self.level is Level.GRID else None

    @property
    def child_level(self) -> Level | None:
        """The level of the units this scope is divided into; None for a grid."""
        order = list(Level)
        i = order.index(self.level)
        return order[i + 1] if i + 1 < len(order) else None

    def parent(self) -> Scope:
        """The scope one level up (the district's parent is the district)."""
        if self.level is Level.GRID:
            return Scope(self.code[:12])
        if self.level is Level.COMMUNITY:
            return Scope(street_of(self.code))
        return Scope()

    def chain(self) -> list[Scope]:
        """District first, this scope last."""
        out = [self]
        while out[-1].level is not Level.DISTRICT:
            out.append(out[-1].parent())
        return out[::-1]

    def contains(self, code: str) -> bool:
        """Whether the unit ``code`` (street, community or grid) lies inside this scope."""
        if self.level is Level.DISTRICT:
            return True
        if self.level is Level.STREET:
            return code[:9] == self.code[:9]
        return code.startswith(self.code)


DISTRICT = Scope()


def as_level(level: Level | str) -> Level:
    """A Level from a Level, its English value or its Chinese label (GuloError naming the choices)."""
    if isinstance(level, Level):
        return level
    try:
        return Level.from_label(str(level))
    except ValueError as exc:
        raise GuloError(str(exc)) from exc
