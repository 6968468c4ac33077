// Dashboards: every element with data-chart is drawn by ECharts from the JSON at its data-url.
// Clicking a part of a chart opens the rows behind it (data-rows-url plus &key=…).
// No inline script anywhere (CSP script-src 'self'): everything the code needs is in data- attributes.
(function () {
  "use strict";
  // Translated through the JavaScript catalogue (/jsi18n/), Chinese when it is not loaded.
  var gettext = window.gettext || function (text) { return text; };
  // Without ECharts (its file failed to load) the figures are still filled in; the charts say so.
  var haveCharts = typeof window.echarts !== "undefined";

  var COLOURS = { green: "#2e7d32", blue: "#1565c0", yellow: "#f9a825", red: "#c62828" };
  var SERIES = ["#b3261e", "#1565c0", "#2e7d32", "#f9a825", "#6a1b9a", "#00838f"];
  var MONTHS = [gettext("1月"), gettext("2月"), gettext("3月"), gettext("4月"), gettext("5月"), gettext("6月"), gettext("7月"), gettext("8月"), gettext("9月"), gettext("10月"), gettext("11月"), gettext("12月")];
  var charts = [];

  function num(value) { return value === null || value === undefined || value === "" ? null : parseFloat(value); }
  function narrow() { return window.innerWidth < 600; }
  function grid() { return { left: 40, right: 12, top: 36, bottom: narrow() ? 56 : 40, containLabel: true }; }
  function legend() { return { top: 0, type: "scroll", textStyle: { fontSize: 11 } }; }
  function short(text, n) { return text.length > n ? text.slice(0, n) + "…" : text; }
  // One percentage format everywhere: at most one decimal, no trailing ".0" (85%, 85.5%).
  function pct(value) {
    var v = num(value);
    if (v === null || isNaN(v)) { return "—"; }
    return (Math.round(v * 10) / 10) + "%";
  }
  // A rate needs a minimum number of answers (settings.CHARTS_MIN_SAMPLE, on <html data-min-sample>).
  var MIN_SAMPLE = parseInt(document.documentElement.getAttribute("data-min-sample") || "5", 10);
  function sampled(rate, count) { return (count || 0) >= MIN_SAMPLE ? num(rate) : null; }
  function itemLabel(i) { return i.number + ". " + short(i.title || "", narrow() ? 4 : 8); }
  var ITEM_AXIS = { interval: 0, rotate: 35, fontSize: 10 };

  var RENDER = {
    colours: function (d) {
      return {
        option: {
          tooltip: { trigger: "item", formatter: function (p) { return p.name + "：" + p.value + gettext(" 家（") + pct(p.percent) + "）"; } },
          legend: legend(),
          // Zero slices are left out: their labels would sit on top of each other.
          series: [{ type: "pie", radius: ["32%", "58%"], center: ["50%", "58%"], label: { formatter: "{b} {c}" },
            data: d.colours.filter(function (c) { return c.count > 0; }).map(function (c) {
              return { name: c.label, value: c.count, key: c.colour, itemStyle: { color: COLOURS[c.colour] } };
            }) }]
        },
        key: function (p) { return p.data.key; }
      };
    },
    distribution: function (d) {
      return {
        option: {
          tooltip: { trigger: "axis" }, grid: grid(),
          xAxis: { type: "category", data: d.bins.map(function (b) { return b.label; }) },
          yAxis: { type: "value", name: gettext("家"), minInterval: 1 },
          series: [{ type: "bar", data: d.bins.map(function (b) { return b.count; }), itemStyle: { color: "#b3261e" },
            label: { show: true, position: "top" } }]
        },
        key: function (p) { return d.bins[p.dataIndex].key; }
      };
    },
    items: function (d) {
      return {
        option: {
          tooltip: { trigger: "axis", formatter: function (ps) {
            var item = d.items[ps[0].dataIndex];
            return item.number + ". " + item.title + "<br>" + ps.map(function (p) {
              return p.marker + p.seriesName + "：" + (p.value === null ? "—" : p.value);
            }).join("<br>");
          } },
          legend: legend(), grid: grid(),
          xAxis: { type: "category", data: d.items.map(itemLabel), axisLabel: ITEM_AXIS },
          yAxis: { type: "value", name: gettext("分") },
          series: [
            { name: gettext("满分"), type: "bar", data: d.items.map(function (i) { return num(i.maximum); }), itemStyle: { color: "#cfd8dc" } },
            { name: gettext("平均分"), type: "bar", data: d.items.map(function (i) { return num(i.average); }), itemStyle: { color: "#b3261e" } },
            { name: gettext("最高分"), type: "bar", data: d.items.map(function (i) { return num(i.best); }), itemStyle: { color: "#1565c0" } }
          ]
        },
        key: function (p) { return d.items[p.dataIndex].number; }
      };
    },
    trend: function (d) {
      return {
        option: {
          tooltip: { trigger: "axis" }, grid: grid(),
          xAxis: { type: "category", data: d.years.map(function (y) { return y.year + ""; }) },
          yAxis: { type: "value", name: gettext("平均总分"), min: function (v) { return Math.max(0, Math.floor(v.min - 10)); } },
          series: [{ name: gettext("平均总分"), type: "bar", data: d.years.map(function (y) { return num(y.mean_total); }),
            itemStyle: { color: "#1565c0" }, label: { show: true, position: "top" } }]
        },
        key: function (p) { return d.years[p.dataIndex].year; }
      };
    },
    complaints: function (d) { return complaintSeries(d); },
    "institution-complaints": function (d) { return complaintSeries(d.complaints); },
    satisfaction: function (d) { return satisfactionLines(d); },
    "institution-satisfaction": function (d) { return satisfactionLines(d.satisfaction); },
    violations: function (d) {
      return {
        option: {
          tooltip: { trigger: "axis" }, legend: legend(), grid: grid(),
          xAxis: { type: "category", data: MONTHS }, yAxis: { type: "value", name: gettext("件"), minInterval: 1 },
          series: [
            { name: d.year + gettext("年"), type: "bar", data: d.months.map(function (m) { return m.count; }), itemStyle: { color: "#b3261e" } },
            { name: d.previous_year + gettext("年"), type: "bar", data: d.months.map(function (m) { return m.previous; }), itemStyle: { color: "#90a4ae" } }
          ]
        },
        key: function (p) { return p.dataIndex + 1; }
      };
    },
    acknowledgements: function (d) {
      var rows = d.warnings.slice().reverse();
      return {
        option: {
          tooltip: { trigger: "axis", formatter: function (ps) {
            var w = rows[ps[0].dataIndex];
            return w.title + gettext("<br>知悉 ") + w.acknowledged + gettext(" / 送达 ") + w.delivered + "（" + pct(w.acknowledged_rate) + "）";
          } },
          grid: { left: 8, right: 24, top: 10, bottom: 10, containLabel: true },
          xAxis: { type: "value", max: 100, name: "%" },
          yAxis: { type: "category", data: rows.map(function (w) { return short(w.title, narrow() ? 8 : 18); }) },
          series: [{ type: "bar", data: rows.map(function (w) { return num(w.acknowledged_rate); }),
            itemStyle: { color: "#2e7d32" }, label: { show: true, position: "right", formatter: function (p) { return pct(p.value); } } }]
        },
        key: function () { return ""; }
      };
    },
    history: function (d) {
      return {
        option: {
          tooltip: { trigger: "axis" }, legend: legend(), grid: grid(),
          xAxis: { type: "category", data: d.years.map(function (y) { return y.year + ""; }) },
          yAxis: [{ type: "value", name: gettext("总分"), min: function (v) { return Math.max(0, Math.floor(v.min - 10)); } },
                  { type: "value", name: gettext("排名"), inverse: true, minInterval: 1, min: 1 }],
          series: [
            { name: gettext("总分"), type: "bar", data: d.years.map(function (y) {
              return { value: num(y.total), itemStyle: { color: COLOURS[y.colour] } };
            }), label: { show: true, position: "top" } },
            { name: gettext("区内排名"), type: "line", yAxisIndex: 1, data: d.years.map(function (y) { return y.rank; }),
              itemStyle: { color: "#333" } }
          ]
        }
      };
    },
    "institution-items": function (d) {
      return {
        option: {
          tooltip: { trigger: "axis", formatter: function (ps) {
            var item = d.items[ps[0].dataIndex];
            return item.number + ". " + item.title + gettext("（满分 ") + item.maximum + "）<br>" + ps.map(function (p) {
              return p.marker + p.seriesName + "：" + (p.value === null ? "—" : p.value);
            }).join("<br>");
          } },
          legend: legend(), grid: grid(),
          xAxis: { type: "category", data: d.items.map(itemLabel), axisLabel: ITEM_AXIS },
          yAxis: { type: "value", name: gettext("分") },
          series: [
            { name: gettext("本机构"), type: "bar", data: d.items.map(function (i) { return num(i.own); }), itemStyle: { color: "#b3261e" } },
            { name: gettext("全区平均"), type: "bar", data: d.items.map(function (i) { return num(i.average); }), itemStyle: { color: "#90a4ae" } },
            { name: gettext("全区最高"), type: "bar", data: d.items.map(function (i) { return num(i.best); }), itemStyle: { color: "#1565c0" } }
          ]
        }
      };
    },
    employees: function (d) {
      return {
        option: {
          tooltip: { trigger: "item", formatter: function (p) { return p.name + "：" + p.value + gettext(" 人（") + pct(p.percent) + "）"; } },
          legend: legend(),
          series: [{ type: "pie", radius: ["32%", "58%"], center: ["50%", "58%"], label: { formatter: "{b} {c}" },
            data: d.colours.filter(function (c) { return c.count > 0; }).map(function (c) {
              return { name: c.label, value: c.count, itemStyle: { color: COLOURS[c.colour] } };
            }) }]
        }
      };
    },
    league: function (d) {
      var rows = d.districts.filter(function (r) { return r.index !== null; });
      return {
        option: {
          tooltip: { trigger: "axis" }, grid: grid(),
          xAxis: { type: "category", data: rows.map(function (r) { return r.district.name; }) },
          yAxis: { type: "value", name: gettext("指数"), max: 100 },
          series: [{ type: "bar", data: rows.map(function (r) { return num(r.index); }), itemStyle: { color: "#b3261e" },
            label: { show: true, position: "top" } }]
        }
      };
    },
    "city-trend": function (d) {
      return {
        option: {
          tooltip: { trigger: "axis" }, legend: legend(), grid: grid(),
          xAxis: { type: "category", data: d.years.map(function (y) { return y + ""; }) },
          yAxis: { type: "value", name: gettext("指数"), max: 100, min: function (v) { return Math.max(0, Math.floor(v.min - 10)); } },
          series: d.series.map(function (s, n) {
            return { name: s.district.name, type: "line", connectNulls: false, data: s.index.map(num),
              itemStyle: { color: SERIES[n % SERIES.length] } };
          })
        }
      };
    }
  };

  function complaintSeries(d) {
    return {
      option: {
        tooltip: { trigger: "axis" }, legend: legend(), grid: grid(),
        xAxis: { type: "category", data: MONTHS }, yAxis: { type: "value", name: gettext("件"), minInterval: 1 },
        series: d.kinds.map(function (k, n) {
          return { name: k.label, type: "bar", stack: "kinds", data: d.series[k.kind], kind: k.kind,
            itemStyle: { color: SERIES[n % SERIES.length] } };
        })
      },
      key: function (p) { return d.kinds[p.seriesIndex].kind + ":" + (p.dataIndex + 1); }
    };
  }

  function satisfactionLines(d) {
    return {
      option: {
        // A month with fewer answers than the minimum sample shows no point (样本不足), not 0 % or 100 %.
        tooltip: { trigger: "axis", formatter: function (ps) {
          var m = d.months[ps[0].dataIndex];
          return MONTHS[ps[0].dataIndex] + "<br>" + ps.map(function (p) {
            var count = p.seriesIndex === 0 ? m.rated : m.previous_rated;
            var rate = p.seriesIndex === 0 ? m.rate : m.previous_rate;
            return p.marker + p.seriesName + "：" + ((count || 0) >= MIN_SAMPLE ? pct(rate) : gettext("样本不足")) + "（" + (count || 0) + gettext(" 份）");
          }).join("<br>");
        } },
        legend: legend(), grid: grid(),
        xAxis: { type: "category", data: MONTHS },
        yAxis: { type: "value", name: "%", max: 100, min: function (v) { return Math.max(0, Math.floor(v.min - 10)); } },
        series: [
          { name: (d.previous_year + 1) + gettext("年"), type: "line", connectNulls: false, data: d.months.map(function (m) { return sampled(m.rate, m.rated); }), itemStyle: { color: "#b3261e" } },
          { name: d.previous_year + gettext("年"), type: "line", connectNulls: false, data: d.months.map(function (m) { return sampled(m.previous_rate, m.previous_rated); }), itemStyle: { color: "#90a4ae" } }
        ]
      },
      key: function (p) { return p.dataIndex + 1; }
    };
  }

  // The page's figures (data-kpi="<chart>", data-field, optional data-format="percent", data-suffix
  // shown when data-suffix-when is set, data-template with {} for the value) come from the same JSON
  // as the chart of that name: the server renders the page without computing those panels twice.
  function fillKpis(kind, data) {
    Array.prototype.forEach.call(document.querySelectorAll('[data-kpi="' + kind + '"]'), function (el) {
      var value = data ? data[el.getAttribute("data-field")] : null;
      var missing = value === null || value === undefined || value === "";
      var text = el.getAttribute("data-format") === "percent" ? pct(value) : (missing ? "—" : String(value));
      var when = el.getAttribute("data-suffix-when");
      if (when && data && data[when] !== null && data[when] !== undefined) { text += " " + el.getAttribute("data-suffix"); }
      var template = el.getAttribute("data-template");
      if (template) {
        el.hidden = missing;
        text = missing ? "" : template.replace("{}", String(value));
      }
      el.textContent = text;
    });
  }

  function draw(box) {
    var kind = box.getAttribute("data-chart");
    var render = RENDER[kind];
    if (!render) { box.setAttribute("data-rendered", "unknown"); return; }
    var filled = false;
    fetch(box.getAttribute("data-url"), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) {
        fillKpis(kind, data);
        filled = true;
        if (!haveCharts) { throw new Error("echarts"); }
        var spec = render(data);
        var chart = window.echarts.init(box, null, { renderer: "canvas" });
        // People who asked their system for less motion get the chart drawn at once.
        if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
          spec.option.animation = false;
        }
        chart.setOption(spec.option);
        charts.push(chart);
        var rowsUrl = box.getAttribute("data-rows-url");
        if (rowsUrl && spec.key) {
          chart.on("click", function (p) {
            var key = spec.key(p);
            window.location.href = rowsUrl + (key === "" || key === undefined ? "" : "&key=" + encodeURIComponent(key));
          });
        }
        box.setAttribute("data-rendered", "1");
      })
      .catch(function () {
        if (!filled) { fillKpis(kind, null); }
        box.textContent = gettext("图表数据加载失败，请稍后刷新。");
        box.setAttribute("data-rendered", "error");
      });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
    var pending = null;
    window.addEventListener("resize", function () {
      window.clearTimeout(pending);
      pending = window.setTimeout(function () { charts.forEach(function (c) { c.resize(); }); }, 150);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
