"""Folium map layers for the dashboard: offline Leaflet assets, basemaps, the layer registry, legend.

Entry points: ``layers.mapbuild.build_map`` / ``add_layers``; ``layers.registry.LAYERS``;
``layers.assets.asset_files`` (what to serve in "url" mode). Imports geo/ and third-party libraries
only: never streamlit, never data/.
"""
