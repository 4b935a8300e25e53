"""The one list of map overlays, in drawing order (first drawn lowest).

Adding a layer: write a module with a ``SPEC = LayerSpec(...)`` and add one line below.
Keys equal the table names of ``data.schema``, so ``frames`` can be keyed by table; "choropleth" and
"gaps" are the exceptions: a unit table with an indicator column added (``layers.choropleth``), and
the coverage gaps of ``geo.coverage.gap_areas`` (``layers.gaps``); so are the 党建引领 layers
"party_grids", "party_compounds" and "party_stations" (``layers.party``: grids, compounds with their party
coverage from ``geo.party_map.compound_coverage``, and stations); and "reference", the reference features of
table ``reference_features`` meeting the view (``layers.reference``).
"""
from __future__ import annotations

from layers import boundaries, choropleth, compounds, disputes, gaps, grids, party, reference, stations
from layers.spec import OPTIONS, LayerSpec, check_options

__all__ = ["LAYERS", "OPTIONS", "LayerSpec", "check_options", "get_layer"]

LAYERS: dict[str, LayerSpec] = {
    spec.key: spec
    for spec in (
        reference.SPEC,  # 参考图层: the light vector basemap, in a pane of its own below every overlay
        grids.SPEC,
        boundaries.COMMUNITIES,
        boundaries.STREETS,
        choropleth.SPEC,  # above the outlines: its polygons take the drill-down clicks
        gaps.SPEC,
        party.GRIDS,  # 党建引领: grids by assistants, compounds by party coverage, party / volunteer sites
        party.COMPOUNDS,
        party.STATIONS,
        compounds.SPEC,
        stations.SPEC,
        disputes.SPEC,
    )
}


def get_layer(key: str) -> LayerSpec:
    """The LayerSpec of ``key``; KeyError naming the known keys otherwise."""
    try:
        return LAYERS[key]
    except KeyError:
        raise KeyError(f"未知的图层“{key}”，可选：{'、'.join(LAYERS)}") from None
