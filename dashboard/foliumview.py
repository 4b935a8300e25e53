"""A cached folium map drawn in the page, rendered once per map rather than once per page run.

``st_folium`` renders the folium map it is given on every script run: about 20 ms of templates for a
district map, paid again by every session that opens the page. The pages' maps are built once per
(data version, scope, period, layers …) and shared by all sessions (``st.cache_resource``), so the text
that ``st_folium`` sends to the browser can be shared too: ``show_folium`` renders a private copy of the
map the first time it sees that map object, keeps the component arguments beside it (dropped with the
map when the cache lets it go) and hands them to the st_folium component on every later run.

The arguments are exactly what ``st_folium`` itself would send (``tests/test_foliumview.py`` compares
them with the installed streamlit-folium), so the browser side is unchanged.
"""
from __future__ import annotations

import copy
import threading
import weakref
from collections.abc import Iterable
from typing import Any

import folium
import folium.elements
import streamlit as st
import streamlit_folium as sf

_RENDERED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()

_DEFAULTS = {"last_clicked": None, "last_object_clicked": None, "last_object_clicked_count": None,
             "last_object_clicked_tooltip": None, "last_object_clicked_popup": None, "all_drawings": None,
             "last_active_drawing": None, "last_circle_radius": None, "last_circle_polygon": None,
             "selected_layers": None, "selected_tags": None, "last_geocoder_result": None}
"""st_folium's initial return value (besides bounds and zoom, which come from the map)."""


def _links(m: folium.Map) -> tuple[list[str], list[str]]:
    """The CSS and JS files the map's elements declare (deduplicated, in order), as st_folium collects them."""
    css: list[str] = []
    js: list[str] = []

    def walk(element):  # no branca colormaps here: st_folium would add d3 from the internet for them
        if isinstance(element, folium.elements.JSCSSMixin):
            yield element
        for child in getattr(element, "_children", {}).values():
            yield from walk(child)

    for element in walk(m):
        css.extend(href for _, href in getattr(element, "default_css", []))
        js.extend(src for _, src in getattr(element, "default_js", []))
    return list(dict.fromkeys(css)), list(dict.fromkeys(js))


def _bounds(m: folium.Map) -> dict:
    (south, west), (north, east) = m.get_bounds()
    return {"_southWest": {"lat": south, "lng": west}, "_northEast": {"lat": north, "lng": east}}


def render_args(m: folium.Map) -> dict[str, Any]:
    """What st_folium sends for map ``m`` (rendered on a private copy; ``m`` is left as it was), before the
    per-call arguments (key, height, width, returned objects)."""
    fig = copy.deepcopy(m)
    fig.get_root().render()
    fig.render()
    html, header = sf._get_html(fig), sf._get_header(fig)
    leaflet = sf._get_map_string(fig)
    css, js = _links(fig)
    defaults = {**_DEFAULTS, "bounds": _bounds(fig), "zoom": fig.options.get("zoom")}
    return {"script": leaflet, "header": header, "html": html, "id": sf.get_full_id(fig), "defaults": defaults,
            "css_links": css, "js_links": js}


def _rendered(m: folium.Map) -> dict[str, Any]:
    with _LOCK:
        args = _RENDERED.get(m)
    if args is None:
        args = render_args(m)
        with _LOCK:
            _RENDERED[m] = args
    return args


def _feature_group_script(m: folium.Map, group: folium.FeatureGroup) -> str:
    """The script st_folium's ``feature_group_to_add`` sends for ``group`` (drawn over ``m`` in the browser
    without re-rendering ``m``); ``m`` itself is not changed."""
    host = copy.copy(m)
    host._children = {}  # st_folium adds the group to the map it is given: a throwaway shell with m's name
    return sf._get_feature_group_string(group, map=host, idx=0)


def show_folium(m: folium.Map, *, key: str, height: int, returned_objects: Iterable[str] = (),
                use_container_width: bool = True, width: int | None = None,
                feature_group: folium.FeatureGroup | None = None):
    """Draw the (cached, shared, never modified) map ``m`` like ``st_folium`` would; returns what it returns.

    ``feature_group``: a small layer that changes from run to run (e.g. a marker where the user clicked),
    drawn over ``m`` in the browser without reloading the map, so its view (zoom, pan) stays."""
    args = _rendered(m)
    returned = list(returned_objects)
    hash_key = sf.generate_js_hash(args["script"], key, False)

    def on_change():
        st.session_state[key] = st.session_state.get(hash_key, {})

    defaults = {k: v for k, v in args["defaults"].items() if k in returned}
    return sf._component_func(
        script=args["script"], header=args["header"], html=args["html"], id=args["id"], key=hash_key,
        height=height, width=None if use_container_width else width, returned_objects=returned,
        default=defaults, zoom=None, center=None, return_on_hover=False,
        feature_group=None if feature_group is None else _feature_group_script(m, feature_group),
        layer_control=None, pixelated=False, css_links=args["css_links"], js_links=args["js_links"],
        on_change=on_change, wrap_longitude=False)
