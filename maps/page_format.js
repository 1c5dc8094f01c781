/*
 * The analyst pages' number and date rules in the browser: the same rules as
 * maps.timeline_labels.PageFormat, whose `spec` (decimal, group, date order,
 * hour and day units) the page hands to gjFormat. Times are epoch ms read as UTC
 * (the pages send local wall-clock time that way).
 */
function gjFormat(spec) {
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function number(v, decimals) {
    if (v === null || v === undefined || isNaN(v)) return "\u2013";
    var fixed = Math.abs(Number(v)).toFixed(decimals || 0).split(".");
    var whole = fixed[0].replace(/\B(?=(\d{3})+(?!\d))/g, spec.group);
    var sign = Number(v) < 0 && Number(fixed.join("")) !== 0 ? "-" : "";
    return sign + whole + (fixed.length > 1 ? spec.decimal + fixed[1] : "");
  }
  function date(ms) {
    if (ms === null || ms === undefined) return "\u2013";
    var d = new Date(ms);
    var y = d.getUTCFullYear(), m = pad(d.getUTCMonth() + 1), day = pad(d.getUTCDate());
    return spec.date === "dmy" ? day + "." + m + "." + y : y + "-" + m + "-" + day;
  }
  function datetime(ms) {
    if (ms === null || ms === undefined) return "\u2013";
    var d = new Date(ms);
    return date(ms) + " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  }
  function nok(v) {
    if (v === null || v === undefined) return "\u2013";
    var s = number(Math.round(v), 0);
    return spec.lang === "nb" ? s + " kr" : "NOK " + s;
  }
  function hours(h) { return number(h, 1) + " " + spec.hours; }
  function duration(h) { return h < 48 ? hours(h) : number(h / 24, 1) + " " + spec.days; }
  return {number: number, date: date, datetime: datetime, nok: nok, hours: hours,
          duration: duration, p: function (v) { return number(v, 2); }};
}
