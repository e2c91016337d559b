// Draws every element with data-chart: its data-option attribute holds an
// ECharts option as JSON (inline scripts are not allowed by the page's CSP).
(function () {
  function draw(root) {
    (root || document).querySelectorAll('[data-chart]').forEach(function (el) {
      if (el._chart) { el._chart.dispose(); }
      el._chart = echarts.init(el);
      el._chart.setOption(JSON.parse(el.getAttribute('data-option')));
    });
  }
  document.addEventListener('DOMContentLoaded', function () { draw(); });
  document.addEventListener('htmx:afterSwap', function (e) { draw(e.target); });
  window.addEventListener('resize', function () {
    document.querySelectorAll('[data-chart]').forEach(function (el) { if (el._chart) { el._chart.resize(); } });
  });
})();
