"""Offline Leaflet: replace folium's CDN links by the files of the installed XStatic packages.

folium's Map asks for Leaflet, jQuery, Bootstrap, Font Awesome and awesome-markers from public CDNs;
MarkerCluster and Draw ask for their plugins from cdnjs. The layers of this project need only Leaflet,
for clustered points Leaflet.markercluster, both shipped as Python packages (XStatic-Leaflet,
XStatic-Leaflet-MarkerCluster), and for the grid editor's drawing tools Leaflet.draw 1.0.4, vendored in
``layers/vendor/leaflet-draw`` (MIT; see its README). :func:`configure_assets` points a map and every
plugin inside it at those files, in one of three modes:

``"url"``    links under a URL ``prefix`` that the app serves itself: serve every
             ``asset_files()`` item at ``f"{prefix}/{name}"``. Works in streamlit-folium (which
             loads ``default_js``/``default_css`` with ``script.src = url``) and in saved HTML
             served from the same place. ``"component"`` (the settings' word) means the same.
``"inline"`` the file contents embedded in ``<script>``/``<style>`` in the page header, images as
             data: URIs: one self-contained HTML file for ``Map.save()``. streamlit-folium cannot
             run header scripts, so do not pass an inline map to ``st_folium``.
``"data"``   each file as a ``data:`` URI in the links: self-contained like "inline" and also
             works in ``st_folium`` without any file serving (about 260 KB per render).

:func:`asset_links` returns exactly the links streamlit-folium would collect, so tests can assert
that none of them leaves the machine.
"""
from __future__ import annotations

import base64
import re
import shutil
from functools import cache
from pathlib import Path

import branca.colormap
import folium
import folium.elements
import folium.plugins
import xstatic.pkg.leaflet as xs_leaflet
import xstatic.pkg.leaflet_markercluster as xs_cluster
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from geo.errors import GuloError

ASSET_MODES = ("url", "inline", "data")
ST_FOLIUM_COLORMAP_JS = "https://d3js.org/d3.v4.min.js"
"""What st_folium fetches from the internet when a map holds a branca ColorMap (so the maps never do)."""
_MODE_ALIASES = {"component": "url"}

_LEAFLET_DIR = Path(xs_leaflet.BASE_DIR)
_CLUSTER_DIR = Path(xs_cluster.BASE_DIR)
_DRAW_DIR = Path(__file__).resolve().parent / "vendor" / "leaflet-draw"  # npm leaflet-draw 1.0.4 (MIT), vendored
VENDOR_DIR = Path(__file__).resolve().parent.parent / "static" / "vendor"
"""The committed copies the app serves at /app/static/vendor (Streamlit static serving); see :func:`main`."""

# url name -> local file. Names are relative paths; Leaflet's CSS finds images/ beside itself.
_FILES: dict[str, Path] = {
    "leaflet/leaflet.js": _LEAFLET_DIR / "leaflet.js",
    "leaflet/leaflet.css": _LEAFLET_DIR / "leaflet.css",
    **{f"leaflet/images/{p.name}": p for p in sorted((_LEAFLET_DIR / "images").glob("*.png"))},
    "leaflet.markercluster/leaflet.markercluster.js": _CLUSTER_DIR / "leaflet.markercluster.js",
    "leaflet.markercluster/MarkerCluster.css": _CLUSTER_DIR / "MarkerCluster.css",
    "leaflet.markercluster/MarkerCluster.Default.css": _CLUSTER_DIR / "MarkerCluster.Default.css",
    "leaflet-draw/leaflet.draw.js": _DRAW_DIR / "leaflet.draw.js",
    "leaflet-draw/leaflet.draw.css": _DRAW_DIR / "leaflet.draw.css",
    **{f"leaflet-draw/images/{p.name}": p for p in sorted((_DRAW_DIR / "images").glob("*.*"))},
}

# folium link name -> our url name; None: not needed by our layers (jQuery, Bootstrap, icons).
_JS = {
    "leaflet": "leaflet/leaflet.js",
    "markerclusterjs": "leaflet.markercluster/leaflet.markercluster.js",
    "leaflet_draw_js": "leaflet-draw/leaflet.draw.js",  # folium.plugins.Draw
    "jquery": None,
    "bootstrap": None,
    "awesome_markers": None,
}
_CSS = {
    "leaflet_css": "leaflet/leaflet.css",
    "markerclustercss": "leaflet.markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "leaflet.markercluster/MarkerCluster.Default.css",
    "leaflet_draw_css": "leaflet-draw/leaflet.draw.css",
    "bootstrap_css": None,
    "glyphicons_css": None,
    "awesome_markers_font_css": None,
    "awesome_markers_css": None,
    "awesome_rotate_css": None,
}
_MIME = {".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml"}


def asset_files() -> dict[str, Path]:
    """Every file the maps may load, as {url name: local path}; serve each at ``{prefix}/{name}``."""
    return dict(_FILES)


def copy_assets(dest: str | Path) -> list[Path]:
    """Copy every asset into ``dest`` under its url name (for a static folder); returns the paths."""
    out = []
    for name, src in _FILES.items():
        target = Path(dest) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        out.append(target)
    return out


def stale_assets(dest: str | Path) -> list[str]:
    """Url names whose copy under ``dest`` is missing or differs from the installed package's file,
    and files under ``dest`` that no asset names; [] when ``dest`` holds exactly :func:`asset_files`."""
    dest = Path(dest)
    stale = [name for name, src in _FILES.items()
             if not (dest / name).is_file() or (dest / name).read_bytes() != src.read_bytes()]
    extra = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) if dest.is_dir() else []
    return stale + [name for name in extra if name not in _FILES]


def main(argv: list[str] | None = None) -> int:
    """``python -m layers.assets --check|--write [DIR]``: compare (exit 1 on any difference) or refresh the
    vendored copies that the app serves as static files (default DIR: the checkout's static/vendor).

    Run ``--write`` at install time (after upgrading XStatic-Leaflet*): the app itself never writes there,
    so it runs from a read-only install."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m layers.assets", description="地图静态资源（Leaflet）的检查与更新")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--check", action="store_true", help="检查 DIR 中的副本是否与已安装的软件包一致")
    action.add_argument("--write", action="store_true", help="从已安装的软件包重新复制到 DIR")
    parser.add_argument("dir", nargs="?", default=str(VENDOR_DIR), help="静态资源目录（默认 static/vendor）")
    args = parser.parse_args(argv)
    if args.write:
        shutil.rmtree(args.dir, ignore_errors=True)
        print(f"已写入 {len(copy_assets(args.dir))} 个文件")
        return 0
    stale = stale_assets(args.dir)
    for name in stale:
        print(f"不一致：{name}")
    print("静态资源与已安装的软件包一致" if not stale else "请运行 python -m layers.assets --write")
    return 1 if stale else 0


def normalise_mode(mode: str) -> str:
    """The canonical asset mode; GuloError naming the allowed modes otherwise."""
    mode = _MODE_ALIASES.get(mode, mode)
    if mode not in ASSET_MODES:
        raise GuloError(f"未知的地图资源模式“{mode}”，可选：{'、'.join(ASSET_MODES)}、component")
    return mode


def streamlit_mode(mode: str) -> str:
    """The asset mode to use for a map shown with ``st_folium``: "inline" becomes "data".

    streamlit-folium injects the page header with ``innerHTML``, where ``<script>`` blocks never
    run, so an inline map stays blank there; data: URIs in the links carry the same files and run.
    """
    mode = normalise_mode(mode)
    return "data" if mode == "inline" else mode


@cache
def _text(name: str) -> str:
    """File contents ready to embed: CSS images as data: URIs, source-map comments dropped."""
    path = _FILES[name]
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^//# sourceMappingURL=.*$", "", text, flags=re.MULTILINE)
    if path.suffix == ".css":
        base = name.rsplit("/", 1)[0]
        text = re.sub(
            r"url\((['\"]?)(images/[^)'\"]+)\1\)",
            lambda mt: f"url({_data_uri(f'{base}/{mt.group(2)}')})",
            text,
        )
    return text.replace("</script", "<\\/script").replace("</style", "<\\/style")


@cache
def _data_uri(name: str) -> str:
    path = _FILES[name]
    payload = _text(name).encode("utf-8") if path.suffix in (".js", ".css") else path.read_bytes()
    return f"data:{_MIME[path.suffix]};base64,{base64.b64encode(payload).decode('ascii')}"


def _link(name: str, mode: str, prefix: str) -> str:
    if mode == "data":
        return _data_uri(name)
    return f"{prefix.rstrip('/')}/{name}"


def _is_remote(url: str) -> bool:
    return bool(re.match(r"^(https?:)?//", url.strip(), flags=re.IGNORECASE))


def _localise_links(
    pairs: list[tuple[str, str]], table: dict[str, str | None], kind: str, owner: str
) -> tuple[list[tuple[str, str]], list[str]]:
    """Split folium's (name, url) pairs into local links to keep and our url names to provide.

    Links folium needs only for jQuery/Bootstrap/icons are dropped; any other remote link raises
    GuloError, so a map can never silently depend on the internet.
    """
    kept: list[tuple[str, str]] = []
    ours: list[str] = []
    for link_name, url in pairs:
        if link_name in _FILES:  # localised before
            ours.append(link_name)
        elif link_name in table:
            if table[link_name] is not None:
                ours.append(table[link_name])
        elif _is_remote(url):
            raise GuloError(f"地图组件 {owner} 需要从外网加载{kind}“{url}”，离线环境无法使用，请改用本地资源")
        else:
            kept.append((link_name, url))
    return kept, ours


def _check_offline_friendly(element: Element) -> None:
    """Refuse folium features that need jQuery or Font Awesome, which are not shipped offline."""
    if isinstance(element, branca.colormap.ColorMap):
        raise GuloError("地图中不能使用 branca 色带（streamlit-folium 会从外网加载 d3），请用图例代替")
    if isinstance(element, (folium.Popup, folium.Icon)):
        raise GuloError(f"地图组件 {element._name} 依赖 jQuery/Font Awesome，离线环境不可用")
    if isinstance(element, folium.GeoJson) and not element.embed:
        raise GuloError("GeoJson 图层必须内嵌数据（embed=True），离线环境不能用 jQuery 加载")
    if isinstance(element, folium.Map) and element.objects_to_stay_in_front:
        raise GuloError("离线地图不支持 keep_in_front（依赖 jQuery）")


def localise_element(element: Element, mode: str, prefix: str = "") -> list[str]:
    """Point one element's ``default_js``/``default_css`` at local assets; returns its url names.

    Sets instance attributes, so folium's class-level lists (shared by every map) stay untouched.
    In "inline" mode the links become empty and the caller embeds the returned files.
    """
    mode = normalise_mode(mode)
    _check_offline_friendly(element)
    if not isinstance(element, folium.elements.JSCSSMixin):
        return []
    owner = type(element).__name__
    kept_js, js = _localise_links(list(element.default_js), _JS, "脚本", owner)
    kept_css, css = _localise_links(list(element.default_css), _CSS, "样式", owner)
    if mode == "inline":
        element.default_js, element.default_css = kept_js, kept_css
    else:
        element.default_js = kept_js + [(n, _link(n, mode, prefix)) for n in js]
        element.default_css = kept_css + [(n, _link(n, mode, prefix)) for n in css]
    return js + css


def _walk(element: Element):
    """Every element of a map tree, depth first (as streamlit-folium walks it)."""
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def _embed(figure: Figure, names: list[str]) -> None:
    """Add <style>/<script> blocks with the files' contents to the page header, once each."""
    for name in names:
        tag = "script" if name.endswith(".js") else "style"
        figure.header.add_child(
            Element(f"<{tag}>\n{_text(name)}\n</{tag}>"), name=f"offline_asset:{name}"
        )


def localise_tree(m: folium.Map, mode: str, prefix: str = "") -> None:
    """Localise the map and every element inside it (plugins added after build included)."""
    mode = normalise_mode(mode)
    names: list[str] = []
    for element in _walk(m):
        names.extend(localise_element(element, mode, prefix))
    if mode == "inline":
        js_first = sorted(dict.fromkeys(names), key=lambda n: (n.endswith(".js"), n != "leaflet/leaflet.js"))
        _embed(m.get_root(), js_first)


class OfflineAssets(MacroElement):
    """A map's first child: at render time, localises every element added since configuration.

    This keeps a map offline even when a caller adds a MarkerCluster after :func:`configure_assets`.
    """

    _template = Template("{% macro script(this, kwargs) %}{% endmacro %}")

    def __init__(self, mode: str, prefix: str = ""):
        super().__init__()
        self._name = "OfflineAssets"
        self.mode = normalise_mode(mode)
        self.prefix = prefix

    def render(self, **kwargs) -> None:
        localise_tree(self._parent, self.mode, self.prefix)
        super().render(**kwargs)


def configure_assets(m: folium.Map, mode: str = "inline", prefix: str = "") -> folium.Map:
    """Make ``m`` (and any plugin inside it, now or later) load Leaflet from local files.

    ``mode``: "url" (needs ``prefix``, e.g. "/app/static/vendor"), "inline" or "data"; see the
    module docstring. Returns ``m`` for chaining.
    """
    mode = normalise_mode(mode)
    if mode == "url" and not prefix:
        raise GuloError("资源模式为 url 时必须给出资源地址前缀 prefix（如 /app/static/vendor）")
    m.add_child(OfflineAssets(mode, prefix), name="offline_assets", index=0)
    localise_tree(m, mode, prefix)
    return m


def asset_links(m: folium.Map) -> tuple[list[str], list[str]]:
    """The (js, css) links streamlit-folium's ``st_folium`` would load for ``m``, in its order.

    Mirrors ``streamlit_folium.st_folium``: render the figure, walk ``_children``, collect every
    ``default_js``/``default_css`` url, and prepend two d3 CDN links when a branca ColorMap is present.
    """
    m.get_root().render()
    js: list[str] = []
    css: list[str] = []
    for element in _walk(m):
        if isinstance(element, branca.colormap.ColorMap):
            js[:0] = [ST_FOLIUM_COLORMAP_JS]
        if not isinstance(element, (branca.colormap.ColorMap, folium.elements.JSCSSMixin)):
            continue
        css.extend(href for _, href in getattr(element, "default_css", []))
        js.extend(src for _, src in getattr(element, "default_js", []))
    return list(dict.fromkeys(js)), list(dict.fromkeys(css))


if __name__ == "__main__":
    raise SystemExit(main())
