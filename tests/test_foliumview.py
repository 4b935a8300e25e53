"""The cached map component: what it sends equals what st_folium sends, rendered once per map, map untouched."""
from __future__ import annotations

import copy
import gc

import pytest
import streamlit_folium

from dashboard import foliumview
from tests.test_layers import frames, full_map  # noqa: F401  (frames is a fixture)

RETURNED = ["last_active_drawing"]


def _sent_by_st_folium(m, monkeypatch) -> dict:
    sent: dict = {}
    monkeypatch.setattr(streamlit_folium, "_component_func", lambda **kw: sent.update(kw))
    streamlit_folium.st_folium(copy.deepcopy(m), key="k", height=500, use_container_width=True,
                               returned_objects=RETURNED)
    return sent


def _sent_by_show_folium(m, monkeypatch) -> dict:
    sent: dict = {}
    monkeypatch.setattr(streamlit_folium, "_component_func", lambda **kw: sent.update(kw))
    foliumview.show_folium(m, key="k", height=500, returned_objects=RETURNED)
    return sent


@pytest.mark.parametrize("level,details", [("district", False), ("community", True)])
def test_the_component_gets_exactly_what_st_folium_would_send(frames, monkeypatch, level, details):  # noqa: F811
    m = full_map(frames, level=level, mode="url", case_details=details)
    expected, got = _sent_by_st_folium(m, monkeypatch), _sent_by_show_folium(m, monkeypatch)
    expected.pop("on_change"), got.pop("on_change")
    assert got.keys() == expected.keys()
    for name in expected:
        assert got[name] == expected[name], name
    assert len(got["script"]) > 1000 and "L.map" in got["script"]


def test_a_map_is_rendered_once_and_left_as_it_was(frames, monkeypatch):  # noqa: F811
    m = full_map(frames, level="district", mode="url")
    before = copy.deepcopy(m).get_root().render()
    calls = []
    real = foliumview.render_args
    monkeypatch.setattr(foliumview, "render_args", lambda x: calls.append(x) or real(x))
    first, second = _sent_by_show_folium(m, monkeypatch), _sent_by_show_folium(m, monkeypatch)
    assert len(calls) == 1 and first["script"] == second["script"]
    assert copy.deepcopy(m).get_root().render() == before  # the shared map was never rendered in place
    other = full_map(frames, level="street", mode="url")
    assert _sent_by_show_folium(other, monkeypatch)["script"] != first["script"] and len(calls) == 2


def test_the_kept_text_goes_with_its_map(frames):  # noqa: F811
    gc.collect()
    m = full_map(frames, level="district", mode="url")
    foliumview._rendered(m)
    assert m in foliumview._RENDERED
    count = len(foliumview._RENDERED)
    del m
    gc.collect()
    assert len(foliumview._RENDERED) == count - 1
