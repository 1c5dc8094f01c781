/*
 * Replay control of the timeline page's map (maps/event_map.py, class _Replay).
 *
 * gjReplayInit(map, c, labels, colours, spec, overlays): the located events
 * (column-wise `c` from maps.event_map.map_points) as circle markers, one per
 * group of near-identical events (same place within a few metres, same day, same
 * standing; `c.g`), with the count drawn on the marker and listed in its tooltip.
 * Linked cases sit in a pane above the hypotheses' pane, so a hypothesis never
 * hides a linked case. A play button and a slider show the events in time order;
 * the path joins the last `c.path_steps` events shown (not every step since the
 * start); a ring marks the newest shown event. A legend and a layer control
 * (linked cases, hypotheses, path, and the basemap's `overlays`) sit on the map.
 * Plain Leaflet, no plugin, no network. Numbers and dates: gjFormat(spec).
 */
function gjReplayInit(map, c, labels, colours, spec, overlays) {
  var F = gjFormat(spec);
  function esc(s){ return String(s).replace(/[&<>"']/g, function(ch){ return {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[ch]; }); }
  function fill(text, n){ return String(text).replace('{n}', F.number(n)); }

  // Panes: hypotheses (410) below linked cases (420), counts above both (430).
  // SVG renderers whose root lets the mouse through, so each circle gets its own
  // hover even where panes overlap.
  [['gjHyp', 410], ['gjLinked', 420], ['gjCount', 430]].forEach(function(p){
    var pane = map.createPane(p[0]); pane.style.zIndex = p[1];
  });
  var renderers = {gjHyp: L.svg({pane: 'gjHyp'}), gjLinked: L.svg({pane: 'gjLinked'})};

  var ev = [];
  for (var i = 0; i < c.n; i++) {
    ev.push({i: i, t: c.base + c.t[i] * 1000, lat: c.lat[i], lon: c.lon[i], lv: c.lv[i], h: c.h[i],
             p: c.p[i], v: c.v[i], k: c.kinds[c.k[i]], inc: c.inc[i], g: c.g[i]});
  }
  function line(e){
    var who = e.h ? '<b style="color:#8a3b6b">' + esc(labels.hypothesis.toUpperCase()) +
      (e.p !== null ? ' (p=' + F.p(e.p) + ')' : '') + '</b>' : esc(labels.linked);
    return '<b>' + esc(e.k) + '</b> · ' + F.datetime(e.t) + '<br>' + esc(labels.value) + ': ' +
      F.nok(e.v) + ' · ' + who + '<br>' + esc(labels['case']) + ': ' + esc(e.inc);
  }
  // one group per marker, members in time order
  var groups = [];
  ev.forEach(function(e){
    var gr = groups[e.g];
    if (!gr) { gr = groups[e.g] = {first: e.i, members: [], h: e.h, lat: e.lat, lon: e.lon, lv: 0, v: 0}; }
    gr.members.push(e); gr.lv = Math.max(gr.lv, e.lv || 0); gr.v = Math.max(gr.v, e.v || 0);
  });
  groups = groups.filter(Boolean);
  function tip(gr){
    var n = gr.members.length, shown = gr.members.slice(0, 5).map(line);
    var head = n > 1 ? '<b class="gj-count">' + esc(fill(labels.same_spot, n)) + '</b><br>' : '';
    var more = n > 5 ? '<br>' + esc(fill(labels.more, n - 5)) : '';
    return '<div class="' + (gr.h ? 'gj-tip-hyp' : 'gj-tip-linked') + '">' + head +
      shown.join('<hr style="margin:3px 0">') + more + '</div>';
  }
  var layers = {linked: L.layerGroup().addTo(map), hyp: L.layerGroup().addTo(map),
                path: L.layerGroup().addTo(map)};
  groups.forEach(function(gr){
    var col = colours[String(gr.lv)] || colours['0'];
    var r = Math.min(14, 4 + 1.6 * Math.log10(1 + gr.v)) + (gr.members.length > 1 ? 2 : 0);
    var pane = gr.h ? 'gjHyp' : 'gjLinked';
    gr.marker = L.circleMarker([gr.lat, gr.lon], {
      pane: pane, renderer: renderers[pane],
      radius: r, color: col, weight: gr.h ? 2 : 1, dashArray: gr.h ? '3 3' : null,
      fillColor: col, fillOpacity: gr.h ? 0.05 : 0.75});
    gr.marker.bindTooltip(function(){ return tip(gr); });
    if (gr.members.length > 1) {
      gr.count = L.marker([gr.lat, gr.lon], {pane: 'gjCount', interactive: false, keyboard: false,
        icon: L.divIcon({className: 'gj-count-icon', html: String(gr.members.length),
                         iconSize: [20, 14], iconAnchor: [10, 7]})});
    }
    gr.layer = gr.h ? layers.hyp : layers.linked;
  });
  var N = c.path_steps;
  var path = L.polyline([], {color: '#333', weight: 2, opacity: 0.6, interactive: false}).addTo(layers.path);
  var current = L.circleMarker([0, 0], {radius: 16, color: '#D55E00', weight: 3, fill: false, interactive: false});
  var shown = 0;
  var ctl = L.control({position: 'bottomleft'});
  var slider, lab, btn, timer = null;
  function show(k){
    k = Math.max(0, Math.min(ev.length, k));
    groups.forEach(function(gr){
      var on = gr.first < k;
      if (on && !gr.layer.hasLayer(gr.marker)) { gr.layer.addLayer(gr.marker); if (gr.count) gr.layer.addLayer(gr.count); }
      if (!on && gr.layer.hasLayer(gr.marker)) { gr.layer.removeLayer(gr.marker); if (gr.count) gr.layer.removeLayer(gr.count); }
    });
    // only the last N steps: the whole history as straight lines is unreadable
    path.setLatLngs(ev.slice(Math.max(0, k - N - 1), k).map(function(e){ return [e.lat, e.lon]; }));
    shown = k;
    if (k > 0 && k < ev.length) { current.setLatLng([ev[k-1].lat, ev[k-1].lon]); if (!layers.path.hasLayer(current)) current.addTo(layers.path); }
    else if (layers.path.hasLayer(current)) { layers.path.removeLayer(current); }
    if (slider) { slider.value = k; }
    if (lab) { lab.textContent = k ? (F.number(k) + '/' + F.number(ev.length) + '  ' + F.datetime(ev[k-1].t)) : ('0/' + F.number(ev.length)); }
  }
  function stop(){ if (timer) { clearInterval(timer); timer = null; } if (btn) btn.textContent = labels.play; }
  ctl.onAdd = function(){
    var div = L.DomUtil.create('div', 'gj-replay');
    btn = L.DomUtil.create('button', '', div); btn.type = 'button'; btn.textContent = labels.play;
    slider = L.DomUtil.create('input', '', div);
    slider.type = 'range'; slider.min = 0; slider.max = ev.length; slider.step = 1; slider.value = ev.length;
    lab = L.DomUtil.create('div', '', div);
    L.DomEvent.disableClickPropagation(div); L.DomEvent.disableScrollPropagation(div);
    slider.addEventListener('input', function(){ stop(); show(parseInt(slider.value, 10)); });
    btn.addEventListener('click', function(){
      if (timer) { stop(); return; }
      if (shown >= ev.length) show(0);
      btn.textContent = labels.pause;
      var step = Math.max(1, Math.ceil(ev.length / 300));
      timer = setInterval(function(){ if (shown >= ev.length) { stop(); return; } show(shown + step); }, 120);
    });
    return div;
  };
  ctl.addTo(map);

  // legend: what colour, outline, number, line and ring mean
  var legend = L.control({position: 'topright'});
  legend.onAdd = function(){
    var div = L.DomUtil.create('div', 'gj-legend');
    function dot(col, hyp){
      return '<svg width="16" height="16"><circle cx="8" cy="8" r="6" stroke="' + col + '" stroke-width="' +
        (hyp ? 2 : 1) + '"' + (hyp ? ' stroke-dasharray="3 3" fill="' + col + '" fill-opacity="0.05"' :
        ' fill="' + col + '" fill-opacity="0.75"') + '/></svg>';
    }
    var rows = ['1', '2', '3', '0'].map(function(k){
      return dot(colours[k], false) + ' ' + esc(labels['level_' + (k === '0' ? 'none' : k)]);
    });
    rows.push(dot('#666', true) + ' ' + esc(labels.hypotheses));
    rows.push('<span class="gj-count-icon gj-legend-count">3</span> ' + esc(labels.map_group));
    rows.push('<svg width="16" height="8"><line x1="0" y1="4" x2="16" y2="4" stroke="#333" stroke-width="2" opacity="0.6"/></svg> ' +
      esc(fill(labels.map_path, N)));
    rows.push('<svg width="16" height="16"><circle cx="8" cy="8" r="6" stroke="#D55E00" stroke-width="2" fill="none"/></svg> ' +
      esc(labels.map_current));
    div.innerHTML = '<details open><summary><b>' + esc(labels.legend) + '</b></summary>' + rows.join('<br>') + '</details>';
    L.DomEvent.disableClickPropagation(div); L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  legend.addTo(map);
  var named = {};
  Object.keys(overlays || {}).forEach(function(name){ named[esc(name)] = overlays[name]; });
  named[esc(labels.map_linked)] = layers.linked;
  named[esc(labels.hypotheses)] = layers.hyp;
  named[esc(fill(labels.map_path, N))] = layers.path;
  var control = L.control.layers(null, named, {collapsed: false, position: 'topleft'}).addTo(map);

  show(ev.length);
  if (ev.length) { map.fitBounds(L.latLngBounds(ev.map(function(e){ return [e.lat, e.lon]; })).pad(0.15), {maxZoom: 15}); }
  window.gjReplay = {
    show: show, count: ev.length, groups: groups, path: path, layers: layers, control: control,
    pathSteps: N,
    segments: function(){ return Math.max(0, path.getLatLngs().length - 1); },
    // where a group's marker is, in the map page's pixels (for tests)
    pixelOf: function(gi){ var p = map.latLngToContainerPoint(groups[gi].marker.getLatLng());
      var r = map.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }
  };
}
