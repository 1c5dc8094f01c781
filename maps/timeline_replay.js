/*
 * Replay control of the timeline page's map (maps/timeline.py, class _Replay).
 *
 * gjReplayInit(map, c, labels, colours): circle markers for the located events
 * (column-wise `c` from maps.timeline.map_points), a play button and a slider that
 * show them in time order, the path between consecutive events up to the slider,
 * and a ring on the newest shown event. Plain Leaflet, no plugin, no network.
 * Hypotheses (c.h = 1) are hollow, dashed and say "HYPOTESE (p=...)".
 */
function gjReplayInit(map, c, labels, colours) {
  function nok(v){ if (v === null) return '\u2013'; var s = Math.round(v).toString().replace(/\B(?=(\d{3})+(?!\d))/g, labels.lang === 'nb' ? ' ' : ',');
    return labels.lang === 'nb' ? s + ' kr' : 'NOK ' + s; }
  function esc(s){ return String(s).replace(/[&<>"']/g, function(ch){ return {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[ch]; }); }
  var ev = [];
  for (var i = 0; i < c.n; i++) {
    ev.push({t: c.base + c.t[i] * 1000, lat: c.lat[i], lon: c.lon[i], lv: c.lv[i], h: c.h[i],
             p: c.p[i], v: c.v[i], k: c.kinds[c.k[i]], inc: c.inc[i]});
  }
  function tip(e){
    var who = e.h ? '<b style="color:#8a3b6b">' + esc(labels.hypothesis.toUpperCase()) +
      (e.p !== null ? ' (p=' + e.p.toFixed(2) + ')' : '') + '</b>' : esc(labels.linked);
    return '<b>' + esc(e.k) + '</b><br>' + fmt(e.t) + '<br>' + esc(labels.value) + ': ' + nok(e.v) +
      '<br>' + who + '<br>' + esc(labels['case']) + ': ' + esc(e.inc);
  }
  var markers = ev.map(function(e){
    var col = colours[String(e.lv)] || colours['0'];
    var r = Math.min(14, 4 + 1.6 * Math.log10(1 + (e.v || 0)));
    var m = L.circleMarker([e.lat, e.lon], {
      radius: r, color: col, weight: e.h ? 2 : 1, dashArray: e.h ? '3 3' : null,
      fillColor: col, fillOpacity: e.h ? 0.05 : 0.75});
    m.bindTooltip(function(){ return tip(e); });
    return m;
  });
  var path = L.polyline([], {color: '#333', weight: 2, opacity: 0.6}).addTo(map);
  var current = L.circleMarker([0, 0], {radius: 16, color: '#D55E00', weight: 3, fill: false, interactive: false});
  var shown = 0;
  function fmt(ms){ var d = new Date(ms); function p(n){return (n<10?'0':'')+n;}
    return d.getUTCFullYear()+'-'+p(d.getUTCMonth()+1)+'-'+p(d.getUTCDate())+' '+
      p(d.getUTCHours())+':'+p(d.getUTCMinutes()); }
  var ctl = L.control({position: 'bottomleft'});
  var slider, lab, btn, timer = null;
  function show(k){
    k = Math.max(0, Math.min(ev.length, k));
    for (var i = 0; i < ev.length; i++) {
      if (i < k && !map.hasLayer(markers[i])) markers[i].addTo(map);
      if (i >= k && map.hasLayer(markers[i])) map.removeLayer(markers[i]);
    }
    path.setLatLngs(ev.slice(0, k).map(function(e){ return [e.lat, e.lon]; }));
    shown = k;
    if (k > 0 && k < ev.length) { current.setLatLng([ev[k-1].lat, ev[k-1].lon]); if (!map.hasLayer(current)) current.addTo(map); }
    else if (map.hasLayer(current)) { map.removeLayer(current); }
    if (slider) { slider.value = k; }
    if (lab) { lab.textContent = k ? (k + '/' + ev.length + '  ' + fmt(ev[k-1].t)) : ('0/' + ev.length); }
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
  show(ev.length);
  if (ev.length) { map.fitBounds(L.latLngBounds(ev.map(function(e){ return [e.lat, e.lon]; })).pad(0.15), {maxZoom: 15}); }
  window.gjReplay = {show: show, count: ev.length, markers: markers, path: path};
}
