#include "export/flamegraph_script.h"

namespace waitscope {

std::string_view FlameGraphScript() {
  // Original positions are kept in data-ox/data-ow so zooming is a pure
  // function of the clicked frame and resetting restores the static layout.
  static constexpr std::string_view kScript = R"JS(
"use strict";
var wsFrames, wsDetails, wsReset, wsChartX, wsChartW, wsCharW;
function wsInit() {
  var svg = document.documentElement;
  wsFrames = document.getElementById("frames");
  wsDetails = document.getElementById("details");
  wsReset = document.getElementById("reset");
  wsChartX = parseFloat(svg.getAttribute("data-chart-x"));
  wsChartW = parseFloat(svg.getAttribute("data-chart-w"));
  wsCharW = parseFloat(svg.getAttribute("data-char-w"));
  if (!wsFrames) return;
  var all = wsFrames.querySelectorAll("g.f");
  for (var i = 0; i < all.length; i++) {
    var r = wsChild(all[i], "rect");
    all[i].setAttribute("data-ox", r.getAttribute("x"));
    all[i].setAttribute("data-ow", r.getAttribute("width"));
  }
  wsFrames.addEventListener("click", function (e) {
    var g = wsFrameOf(e.target);
    if (g) wsZoom(g);
  });
  wsFrames.addEventListener("mouseover", function (e) {
    var g = wsFrameOf(e.target);
    if (g) wsDetails.textContent = wsChild(g, "title").textContent;
  });
  wsFrames.addEventListener("mouseout", function () { wsDetails.textContent = " "; });
  wsReset.addEventListener("click", wsUnzoom);
}
function wsFrameOf(el) {
  for (; el && el !== wsFrames; el = el.parentNode) {
    if (el.classList && el.classList.contains("f")) return el;
  }
  return null;
}
function wsChild(g, tag) {
  for (var c = g.firstElementChild; c; c = c.nextElementSibling) {
    if (c.tagName === tag) return c;
  }
  return null;
}
function wsName(g) {
  var t = wsChild(g, "title").textContent;
  var i = t.lastIndexOf(" \u2014 ");
  return i < 0 ? t : t.substring(0, i);
}
function wsFit(name, w) {
  var n = Math.floor((w - 6) / wsCharW);
  if (n < 3) return "";
  var chars = Array.from(name);
  return chars.length <= n ? name : chars.slice(0, n - 2).join("") + "..";
}
function wsPlace(g, x, w) {
  wsChild(g, "rect").setAttribute("x", x.toFixed(2));
  wsChild(g, "rect").setAttribute("width", w.toFixed(2));
  wsChild(g, "text").setAttribute("x", (x + 3).toFixed(2));
  wsChild(g, "text").textContent = wsFit(wsName(g), w);
}
function wsOrig(g, attr) { return parseFloat(g.getAttribute(attr)); }
function wsZoom(target) {
  if (target.parentNode === wsFrames) { wsUnzoom(); return; }
  var ox = wsOrig(target, "data-ox"), scale = wsChartW / wsOrig(target, "data-ow");
  var all = wsFrames.querySelectorAll("g.f");
  for (var i = 0; i < all.length; i++) {
    var g = all[i];
    g.classList.remove("hide", "anc");
    if (g === target || g.contains(target)) {
      if (g !== target) g.classList.add("anc");
      wsPlace(g, wsChartX, wsChartW);
    } else if (target.contains(g)) {
      wsPlace(g, wsChartX + (wsOrig(g, "data-ox") - ox) * scale, wsOrig(g, "data-ow") * scale);
    } else {
      g.classList.add("hide");
    }
  }
  wsReset.classList.remove("hide");
}
function wsUnzoom() {
  var all = wsFrames.querySelectorAll("g.f");
  for (var i = 0; i < all.length; i++) {
    all[i].classList.remove("hide", "anc");
    wsPlace(all[i], wsOrig(all[i], "data-ox"), wsOrig(all[i], "data-ow"));
  }
  wsReset.classList.add("hide");
}
)JS";
  return kScript;
}

}  // namespace waitscope
