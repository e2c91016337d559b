// Draws every element with data-chart: its data-option attribute holds an
// ECharts option as JSON (inline scripts are not allowed by the page's CSP).
// With data-map="NAME" and data-map-url, the GeoJSON at the URL is
// registered as map NAME first; with data-link, a click on an item whose
// data has a code goes to data-link with {code} replaced (drill-down).
(function () {
  function show(el) {
    if (el._chart) { el._chart.dispose(); }
    el._chart = echarts.init(el);
    el._chart.setOption(JSON.parse(el.getAttribute('data-option')));
    var link = el.getAttribute('data-link');
    if (link) {
      el._chart.on('click', function (p) {
        if (p.data && p.data.code) { window.location.href = link.replace('{code}', encodeURIComponent(p.data.code)); }
      });
    }
  }
  function draw(root) {
    (root || document).querySelectorAll('[data-chart]').forEach(function (el) {
      var map = el.getAttribute('data-map');
      if (map && !echarts.getMap(map)) {
        fetch(el.getAttribute('data-map-url')).then(function (r) { return r.json(); }).then(function (geo) {
          echarts.registerMap(map, geo);
          show(el);
        });
        return;
      }
      show(el);
    });
  }
  document.addEventListener('DOMContentLoaded', function () { draw(); });
  document.addEventListener('htmx:afterSwap', function (e) { draw(e.target); });
  window.addEventListener('resize', function () {
    document.querySelectorAll('[data-chart]').forEach(function (el) { if (el._chart) { el._chart.resize(); } });
  });
})();
