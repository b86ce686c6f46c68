/* Poverty map: a choropleth from /peta/data.geojson drawn with the self-hosted Leaflet, no tiles unless the
   deployment sets TEPAT_MAP_TILES. Colours, classes and pockets come from the server; this file only draws,
   opens popups, links the tables to the map and turns the server's SVG picture into a PNG. */
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  var labels = JSON.parse(document.getElementById("map-labels").textContent);
  var status = document.getElementById("map-status");
  var lang = document.documentElement.lang || "id";
  var whole = el.dataset.whole === "1";
  var numbers = {
    0: new Intl.NumberFormat(lang, { maximumFractionDigits: 0 }),
    1: new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 }),
    2: new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
    3: new Intl.NumberFormat(lang, { minimumFractionDigits: 3, maximumFractionDigits: 3 })
  };
  function fmt(value, decimals) { return value === null || value === undefined ? "–" : numbers[decimals].format(value); }
  function say(text) { if (status) { status.textContent = text; } }

  var map = L.map(el, { zoomSnap: 0.25, minZoom: 6, maxZoom: 17 });
  if (el.dataset.bbox) {
    var b = el.dataset.bbox.split(",").map(Number);
    map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
  } else {
    map.setView([-2.5, 118], 5);
  }
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { attribution: el.dataset.tilesAttribution || "", maxZoom: 19 }).addTo(map);
  } else {
    el.classList.add("no-tiles");
  }
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  map.attributionControl.addAttribution("cahyadsn/wilayah_boundaries (MIT)");

  function row(table, label, value) {
    var tr = document.createElement("tr");
    var th = document.createElement("th"); th.scope = "row"; th.textContent = label;
    var td = document.createElement("td"); td.className = "num"; td.textContent = value;
    tr.appendChild(th); tr.appendChild(td); table.appendChild(tr);
  }

  function popup(p) {
    var box = document.createElement("div");
    box.className = "map-popup";
    var h = document.createElement("strong"); h.textContent = p.name; box.appendChild(h);
    var code = document.createElement("small"); code.className = "code"; code.textContent = p.code; box.appendChild(code);
    var table = document.createElement("table");
    row(table, labels.families, fmt(p.families, 0));
    row(table, labels.poor, fmt(p.poor, 0));
    row(table, labels.extreme, fmt(p.extreme, 0));
    row(table, labels.rate, p.rate === null ? "–" : fmt(p.rate, 1) + " %");
    if (p.flagged !== undefined) { row(table, labels.flagged, fmt(p.flagged, 0)); }
    if (p.gap !== undefined) { row(table, labels.gap, fmt(p.gap, 0)); }
    var gi = labels["pocket_" + p.pocket];
    if (p.gi_z !== null) { gi += " (z " + fmt(p.gi_z, 2) + ", p " + fmt(p.gi_p, 3) + ")"; }
    row(table, labels.pocket, gi);
    row(table, labels.cluster, labels["cluster_" + p.cluster]);
    box.appendChild(table);
    var links = document.createElement("p");
    [["families_url", labels.families_url], ["overview_url", labels.overview_url]].forEach(function (pair) {
      if (!p[pair[0]]) { return; }
      var a = document.createElement("a"); a.href = p[pair[0]]; a.textContent = pair[1];
      if (links.childNodes.length) { links.appendChild(document.createTextNode(" · ")); }
      links.appendChild(a);
    });
    box.appendChild(links);
    if (labels.points_url && p.code && p.code.length === 13) {
      var btn = document.createElement("button");
      btn.type = "button"; btn.className = "link show-points"; btn.textContent = labels.points;
      btn.addEventListener("click", function () { loadPoints(p.code, btn); });
      box.appendChild(btn);
    }
    return box;
  }

  // Household points of one village, for roles that may see where houses are (the server checks and logs).
  var pointsLayer = null;
  var desilColour = ["#7f0000", "#b30000", "#d7301f", "#ef6548", "#fc8d59", "#fdbb84", "#c6dbef", "#9ecae1",
                     "#6baed6", "#3182bd"];
  function loadPoints(code, btn) {
    fetch(labels.points_url + "?area=" + encodeURIComponent(code), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) {
        if (pointsLayer) { map.removeLayer(pointsLayer); }
        pointsLayer = L.geoJSON(data, {
          pointToLayer: function (f, latlng) {
            var d = f.properties.desil;
            return L.circleMarker(latlng, { radius: 5, weight: 1, color: "#1c2430", fillOpacity: 0.9,
                                            fillColor: d ? desilColour[d - 1] : "#999999" });
          },
          onEachFeature: function (f, layer) {
            var box = document.createElement("div");
            var a = document.createElement("a"); a.href = "/keluarga/" + f.properties.family + "/";
            a.textContent = labels.family; box.appendChild(a);
            var s = document.createElement("small"); s.textContent = " (" + labels["source_" + f.properties.source] + ")";
            box.appendChild(s);
            layer.bindPopup(box);
          }
        }).addTo(map);
        el.dataset.points = String(data.features.length);
        btn.textContent = data.features.length ? labels.points + " (" + data.features.length + ")" : labels.points_none;
        if (data.features.length) { map.fitBounds(pointsLayer.getBounds(), { padding: [20, 20], maxZoom: 16 }); }
      })
      .catch(function () { btn.textContent = labels.failed; });
  }

  var byCode = {};
  say(labels.loading);
  fetch(el.dataset.geojson, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
    .then(function (data) {
      var areas = L.geoJSON(data, {
        style: function (f) {
          return { fillColor: f.properties.fill, fillOpacity: 0.85, color: "#ffffff", weight: 1, opacity: 1 };
        },
        onEachFeature: function (f, layer) {
          byCode[f.properties.code] = layer;
          layer.bindPopup(function () { return popup(f.properties); }, { maxWidth: 320 });
          layer.bindTooltip(f.properties.name + ": " + (f.properties.value === null ? "–" :
            fmt(f.properties.value, whole ? 0 : 1) + (whole ? "" : " %")), { sticky: true });
          layer.on("mouseover", function () { layer.setStyle({ weight: 2.5, color: "#1c2430" }); });
          layer.on("mouseout", function () { areas.resetStyle(layer); });
        }
      }).addTo(map);
      var pockets = L.geoJSON(data, {
        filter: function (f) { return f.properties.pocket === "hot" || f.properties.pocket === "cold"; },
        interactive: false,
        style: function (f) {
          var hot = f.properties.pocket === "hot";
          return { fill: false, color: hot ? el.dataset.hot : el.dataset.cold, weight: hot ? 3.5 : 3,
                   dashArray: hot ? null : "7 4", opacity: 1 };
        }
      }).addTo(map);
      var overlays = {};
      overlays[labels.areas_layer] = areas;
      overlays[labels.pockets_layer] = pockets;
      L.control.layers(null, overlays, { collapsed: false }).addTo(map);
      if (data.features.length) { map.fitBounds(areas.getBounds(), { padding: [8, 8] }); }
      el.dataset.features = String(data.features.length);
      el.dataset.pockets = String(pockets.getLayers().length);
      say(labels.loaded.replace("{n}", data.features.length));
      linkTables();
    })
    .catch(function () { say(labels.failed); el.dataset.features = "error"; });

  function show(code) {
    var layer = byCode[code];
    if (!layer) { return; }
    map.fitBounds(layer.getBounds(), { maxZoom: 14, padding: [20, 20] });
    layer.openPopup(layer.getBounds().getCenter());
    el.scrollIntoView({ behavior: "smooth", block: "center" });
  }

  /* A drawn crosshair: a font glyph (⌖) is missing from many office machines' fonts. */
  function crosshair() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 16 16"); svg.setAttribute("width", "14"); svg.setAttribute("height", "14");
    svg.setAttribute("aria-hidden", "true");
    var circle = document.createElementNS(ns, "circle");
    circle.setAttribute("cx", "8"); circle.setAttribute("cy", "8"); circle.setAttribute("r", "5");
    svg.appendChild(circle);
    var cross = document.createElementNS(ns, "path");
    cross.setAttribute("d", "M8 0v5M8 11v5M0 8h5M11 8h5");
    svg.appendChild(cross);
    return svg;
  }

  function linkTables() {
    document.querySelectorAll("#pocket-table tr[data-code] th, #area-table tr[data-code] th").forEach(function (th) {
      var code = th.parentNode.dataset.code;
      if (!byCode[code]) { return; }
      var button = document.createElement("button");
      button.type = "button"; button.className = "link show-on-map";
      button.title = labels.show; button.setAttribute("aria-label", labels.show);
      button.appendChild(crosshair());
      button.addEventListener("click", function () { show(code); });
      th.appendChild(document.createTextNode(" "));
      th.appendChild(button);
    });
  }

  /* PNG: the server's SVG picture (map, legend, pockets, title) drawn on a canvas at twice its size. */
  var png = document.getElementById("map-png");
  if (png && window.HTMLCanvasElement && window.URL) {
    png.hidden = false;
    png.addEventListener("click", function () {
      png.disabled = true;
      fetch(el.dataset.svg, { credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (text) {
          var url = URL.createObjectURL(new Blob([text], { type: "image/svg+xml" }));
          var img = new Image();
          img.onload = function () {
            var canvas = document.createElement("canvas");
            canvas.width = img.naturalWidth * 2; canvas.height = img.naturalHeight * 2;
            var ctx = canvas.getContext("2d");
            ctx.scale(2, 2); ctx.drawImage(img, 0, 0);
            URL.revokeObjectURL(url);
            canvas.toBlob(function (blob) {
              var a = document.createElement("a");
              a.href = URL.createObjectURL(blob); a.download = el.dataset.pngName;
              document.body.appendChild(a); a.click(); a.remove();
              png.disabled = false;
            }, "image/png");
          };
          img.onerror = function () { png.disabled = false; say(labels.failed); };
          img.src = url;
        });
    });
  }
})();
