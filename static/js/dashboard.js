// Draws the dashboard's charts with Apache ECharts (static/vendor/echarts.min.js, installed by
// scripts/setup) from the JSON block #dashboard-data. Without ECharts the tables alone show the
// same figures; each chart is hidden from assistive technology and print, its table is not.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("dashboard-data");
    if (!source || typeof window.echarts === "undefined") return;
    var data = JSON.parse(source.textContent || "{}");
    document.querySelectorAll("[data-chart]").forEach(function (box) {
      var chart = data[box.getAttribute("data-chart")];
      if (!chart || !chart.labels.length) return;
      box.classList.add("chart-drawn");
      var unit = chart.unit || "";
      window.echarts.init(box).setOption({
        title: { text: chart.title, textStyle: { fontSize: 14 } },
        tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + unit; } },
        legend: { top: 24, data: chart.series.map(function (s) { return s.name; }) },
        grid: { top: 60, left: 8, right: 8, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: chart.labels, axisLabel: { interval: 0, rotate: chart.labels.length > 6 ? 30 : 0 } },
        yAxis: { type: "value", axisLabel: { formatter: "{value}" + unit } },
        series: chart.series.map(function (s) { return { name: s.name, type: chart.type || "bar", data: s.values }; })
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
